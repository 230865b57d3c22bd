using Platform.Grains.Rules;

namespace Platform.Grains.Tests.Rules;

public sealed class RuleTemplateTests
{
    private static readonly IReadOnlyList<string> Push = RuleTemplate.ProvidedBy(RuleTriggerTypes.Push);

    [Theory]
    [InlineData("plain text")]
    [InlineData("{{repo}}@{{commit}}")]
    [InlineData("{{ branch }}")]
    [InlineData("")]
    public void Templates_with_the_triggers_placeholders_are_accepted(string text) => Assert.Null(RuleTemplate.Check(text, Push, RuleTriggerTypes.Push));

    [Theory]
    [InlineData("{{version}}", "'{{version}}' is not a placeholder; expected one of {{repo}}")]
    [InlineData("{{key}}", "'{{key}}' is not provided by a push trigger; it provides {{repo}}, {{branch}}, {{commit}}")]
    [InlineData("{{repo", "the placeholder opened at position 0 is not closed")]
    [InlineData("a }} b", "'}}' at position 2 closes no placeholder")]
    [InlineData("{{repo | upper}}", "'{{repo | upper}}' is not a placeholder")]
    public void Unknown_or_unprovided_or_broken_placeholders_are_refused_saying_why(string text, string start)
        => Assert.StartsWith(start, RuleTemplate.Check(text, Push, RuleTriggerTypes.Push));

    [Fact]
    public void Render_fills_each_placeholder_from_the_facts_and_leaves_the_rest()
    {
        var facts = new Dictionary<string, string> { ["repo"] = "team/app", ["commit"] = "8fb0eef", ["branch"] = "main" };
        Assert.Equal("https://a.example/team/app/8fb0eef/m.yml on main", RuleTemplate.Render("https://a.example/{{repo}}/{{ commit }}/m.yml on {{branch}}", facts));
        Assert.Equal("no placeholders", RuleTemplate.Render("no placeholders", facts));
    }

    [Fact]
    public void Render_puts_values_in_as_they_are_without_reading_placeholders_inside_them()
    {
        var facts = new Dictionary<string, string> { ["payload"] = "{{key}} $(rm -rf /)" };
        Assert.Equal("got {{key}} $(rm -rf /)", RuleTemplate.Render("got {{payload}}", facts));
    }

    [Fact]
    public void Uses_finds_a_placeholder_with_or_without_spaces()
    {
        Assert.True(RuleTemplate.Uses("/x/{{ key }}", "key"));
        Assert.False(RuleTemplate.Uses("/x/key", "key"));
    }
}
