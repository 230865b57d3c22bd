using System.Text;
using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent.Tests.Handlers;

public sealed class HandlerInputTests
{
    private static MemberInfo Member(string name, string addr, params (string Key, string Value)[] tags)
        => new(name, addr, 7946, tags.ToDictionary(t => t.Key, t => t.Value), "alive", 5);

    [Theory]
    [InlineData("role", "ROLE")]
    [InlineData("dc", "DC")]
    [InlineData("web-tier", "WEB_TIER")]
    [InlineData("a.b/c d", "A_B_C_D")]
    [InlineData("version_2", "VERSION_2")]
    [InlineData("é", "_")]
    public void Tag_names_are_upper_cased_and_every_other_character_becomes_underscore(string tag, string suffix)
        => Assert.Equal(suffix, HandlerInput.TagVariable(tag));

    [Fact]
    public void Member_event_environment_is_serfs()
    {
        var env = HandlerInput.Environment(new MemberHandlerEvent("member-join", []), "web-1",
            new Dictionary<string, string> { ["role"] = "web", ["web-tier"] = "front" }).ToDictionary();

        Assert.Equal(new Dictionary<string, string>
        {
            ["SERF_EVENT"] = "member-join",
            ["SERF_SELF_NAME"] = "web-1",
            ["SERF_SELF_ROLE"] = "web",
            ["SERF_TAG_ROLE"] = "web",
            ["SERF_TAG_WEB_TIER"] = "front",
        }, env);
    }

    [Fact]
    public void User_event_and_query_environment_carry_name_and_ltime()
    {
        var user = HandlerInput.Environment(new UserHandlerEvent("deploy", [], 42, true), "n", new Dictionary<string, string>()).ToDictionary();
        Assert.Equal(("user", "deploy", "42", ""), (user["SERF_EVENT"], user["SERF_USER_EVENT"], user["SERF_USER_LTIME"], user["SERF_SELF_ROLE"]));

        var query = HandlerInput.Environment(new QueryHandlerEvent("id", "load", [], 7, DateTimeOffset.MaxValue), "n", new Dictionary<string, string>()).ToDictionary();
        Assert.Equal(("query", "load", "7"), (query["SERF_EVENT"], query["SERF_QUERY_NAME"], query["SERF_QUERY_LTIME"]));
        Assert.False(query.ContainsKey("SERF_USER_EVENT"));
    }

    [Fact]
    public void Member_stdin_is_one_tab_separated_line_per_member_byte_for_byte()
    {
        var e = new MemberHandlerEvent("member-join",
        [
            Member("web-1", "10.0.0.1", ("role", "web"), ("dc", "east")),
            Member("db-1", "10.0.0.2:7946"),
        ]);

        var stdin = Encoding.UTF8.GetString(HandlerInput.Stdin(e));

        Assert.Equal("web-1\t10.0.0.1\tweb\trole=web,dc=east\ndb-1\t10.0.0.2\t\t\n", stdin);
    }

    [Fact]
    public void Tabs_and_newlines_in_name_role_and_tags_are_escaped()
    {
        var e = new MemberHandlerEvent("member-update", [Member("we\tird\nname", "10.0.0.3", ("role", "a\tb"), ("note", "x\ny"))]);

        var stdin = Encoding.UTF8.GetString(HandlerInput.Stdin(e));

        Assert.Equal("we\\tird\\nname\t10.0.0.3\ta\\tb\trole=a\\tb,note=x\\ny\n", stdin);
    }

    [Fact]
    public void Ipv6_member_address_is_written_without_brackets_or_port()
    {
        var stdin = Encoding.UTF8.GetString(HandlerInput.Stdin(new MemberHandlerEvent("member-join", [Member("v6", "[fd00::1]:7946")])));
        Assert.Equal("v6\tfd00::1\t\t\n", stdin);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("v1.2", "v1.2\n")]
    [InlineData("line\n", "line\n")]
    [InlineData("a\nb", "a\nb\n")]
    public void Payload_gets_a_trailing_newline_only_when_missing_and_not_empty(string payload, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        Assert.Equal(expected, Encoding.UTF8.GetString(HandlerInput.Stdin(new UserHandlerEvent("deploy", bytes, 1, false))));
        Assert.Equal(expected, Encoding.UTF8.GetString(HandlerInput.Stdin(new QueryHandlerEvent("q", "load", bytes, 1, DateTimeOffset.MaxValue))));
    }
}
