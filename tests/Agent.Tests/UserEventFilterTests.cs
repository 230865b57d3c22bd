using Platform.Protocol;

namespace Platform.Agent.Tests;

public sealed class UserEventFilterTests
{
    private static readonly Dictionary<string, string> s_web = new() { ["role"] = "web", ["zone"] = "eu-1" };

    [Theory]
    [InlineData("web", null, true)]
    [InlineData("^web-1$", null, true)]
    [InlineData("^db", null, false)]
    [InlineData(null, "role=we", true)]
    [InlineData(null, "role=^db$", false)]
    [InlineData(null, "rack=.*", false)]
    [InlineData("web", "zone=eu", true)]
    [InlineData("web", "zone=us", false)]
    public void Node_filter_matches_the_name_and_tag_filter_a_tag_value_both_unanchored(string? node, string? tag, bool matches)
    {
        Assert.True(UserEventFilter.TryCreate(node, tag, out var filter, out var error), error);
        Assert.Equal(matches, filter!.Matches("web-1", s_web));
    }

    [Fact]
    public void No_filters_is_no_filter()
    {
        Assert.True(UserEventFilter.TryCreate("", null, out var filter, out _));
        Assert.Null(filter);
    }

    [Theory]
    [InlineData("web(", null, "Invalid node filter: 'web(' is not a valid regular expression")]
    [InlineData(null, "role", "Invalid tag filter: 'role'; expected key=regexp")]
    [InlineData(null, "=web", "Invalid tag filter: '=web'; expected key=regexp")]
    [InlineData(null, "role=[", "Invalid tag filter: 'role=[': the value is not a valid regular expression")]
    public void A_filter_that_cannot_be_used_is_refused_naming_it(string? node, string? tag, string expected)
    {
        Assert.False(UserEventFilter.TryCreate(node, tag, out _, out var error));
        Assert.StartsWith(expected, error);
    }
}
