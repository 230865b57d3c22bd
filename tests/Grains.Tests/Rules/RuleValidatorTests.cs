using System.Text.Json;
using Platform.Grains.Keys;
using Platform.Grains.Rules;

namespace Platform.Grains.Tests.Rules;

public sealed class RuleValidatorTests
{
    private static RuleSpec KeyToEvent(string key = "/build_notify", string eventName = "deployed", string payload = "{{value}}")
        => new("notify", true, new RuleTrigger(RuleTriggerTypes.KeyChanged, Key: key), [new RuleAction(RuleActionTypes.FireEvent, Name: eventName, Payload: payload)]);

    private static RuleError Refused(RuleSpec spec)
    {
        var error = RuleValidator.Validate(spec, out _);
        Assert.NotNull(error);
        return error;
    }

    [Fact]
    public void A_key_rule_that_fires_an_event_is_accepted()
    {
        Assert.Null(RuleValidator.Validate(KeyToEvent(), out var normal));
        Assert.Equal("/build_notify", normal.Trigger!.Key);
    }

    [Fact]
    public void A_push_rule_that_deploys_is_accepted_and_a_start_build_takes_the_triggers_branch()
    {
        var spec = new RuleSpec("ci", true, new RuleTrigger(RuleTriggerTypes.Push, Repo: "team/app", Branches: "main release/* !release/old"),
        [
            new RuleAction(RuleActionTypes.StartBuild, Repo: "{{repo}}"),
            new RuleAction(RuleActionTypes.StartDeploy, ManifestUrl: "https://artifacts.example/{{repo}}/{{commit}}/manifest.yml",
                Target: new RuleDeployTarget(Tags: new() { ["role"] = "web" }), Strategy: JsonDocument.Parse("{\"batch\":\"25%\"}").RootElement),
        ]);
        Assert.Null(RuleValidator.Validate(spec, out var normal));
        Assert.Equal("{{branch}}", normal.Actions![0].Branch);
    }

    [Fact]
    public void Build_finished_defaults_to_any_status()
    {
        var spec = new RuleSpec("after", true, new RuleTrigger(RuleTriggerTypes.BuildFinished, Repo: "team/lib"), [new RuleAction(RuleActionTypes.SetKey, Key: "/built/{{build_id}}", Value: "{{status}}")]);
        Assert.Null(RuleValidator.Validate(spec, out var normal));
        Assert.Equal(RuleBuildStatuses.Any, normal.Trigger!.Status);
    }

    [Theory]
    [InlineData("", "name")]
    [InlineData("has space", "name")]
    public void Bad_names_are_refused(string name, string field) => Assert.Equal(field, Refused(KeyToEvent() with { Name = name }).Field);

    [Fact]
    public void Each_mistake_names_its_field()
    {
        Assert.Equal("trigger", Refused(KeyToEvent() with { Trigger = null }).Field);
        Assert.Equal("trigger.type", Refused(KeyToEvent() with { Trigger = new RuleTrigger("cron") }).Field);
        Assert.Equal("trigger.key", Refused(KeyToEvent() with { Trigger = new RuleTrigger(RuleTriggerTypes.KeyChanged) }).Field);
        Assert.Equal("trigger.key", Refused(KeyToEvent("/a//b")).Field);
        Assert.Equal("trigger.repo", Refused(KeyToEvent() with { Trigger = new RuleTrigger(RuleTriggerTypes.KeyChanged, Key: "/a", Repo: "team/app") }).Field);
        Assert.Equal("trigger.branches", Refused(KeyToEvent() with { Trigger = new RuleTrigger(RuleTriggerTypes.Push, Repo: "team/app", Branches: "main !") }).Field);
        Assert.Equal("trigger.status", Refused(KeyToEvent() with { Trigger = new RuleTrigger(RuleTriggerTypes.BuildFinished, Repo: "team/app", Status: "green") }).Field);
        Assert.Equal("trigger.name", Refused(KeyToEvent() with { Trigger = new RuleTrigger(RuleTriggerTypes.UserEvent, Name: "_reserved") }).Field);
        Assert.Equal("actions", Refused(KeyToEvent() with { Actions = [] }).Field);
        Assert.Equal("actions[0].type", Refused(KeyToEvent() with { Actions = [new RuleAction("exec")] }).Field);
        Assert.Equal("actions[0].payload", Refused(KeyToEvent(payload: "{{commit}}")).Field);
        Assert.Equal("actions[0].key", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.FireEvent, Name: "x", Key: "/k")] }).Field);
        Assert.Equal("actions[0].manifestUrl", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartDeploy, Target: new RuleDeployTarget(All: true))] }).Field);
        Assert.Equal("actions[0].manifestUrl", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartDeploy, ManifestUrl: "not a url", Target: new RuleDeployTarget(All: true))] }).Field);
        Assert.Equal("actions[0].target", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartDeploy, ManifestUrl: "https://a/m.yml", Target: new RuleDeployTarget(Nodes: ["a"], All: true))] }).Field);
        Assert.Equal("actions[0].target.tags.role", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartDeploy, ManifestUrl: "https://a/m.yml", Target: new RuleDeployTarget(Tags: new() { ["role"] = "web(" }))] }).Field);
        Assert.Equal("actions[0].name", Refused(KeyToEvent(eventName: "{{value}}")).Field);
        Assert.Equal("actions[0].key", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.SetKey, Key: "/a//b")] }).Field);
        Assert.Equal("actions[0].branch", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartBuild, Repo: "team/app")] }).Field);
        Assert.Equal("actions[0].pipeline", Refused(KeyToEvent() with { Actions = [new RuleAction(RuleActionTypes.StartBuild, Repo: "team/app", Pipeline: ".platform/other.yml")] }).Field);
    }

    [Fact]
    public void Error_text_names_the_field_and_what_was_expected()
    {
        var error = Refused(KeyToEvent(payload: "{{version}}"));
        Assert.StartsWith("actions[0].payload: '{{version}}' is not a placeholder; expected one of {{repo}}", error.ToString());
    }

    [Theory]
    [InlineData("/build_notify", "/build_notify")]
    [InlineData("/build_notify", "{{key}}")]
    public void A_key_rule_that_sets_its_own_key_is_refused_as_a_loop(string watched, string set)
    {
        var spec = KeyToEvent(watched) with { Actions = [new RuleAction(RuleActionTypes.SetKey, Key: set, Value: "x")] };
        var error = Refused(spec);
        Assert.Equal("actions[0].key", error.Field);
        Assert.Contains("would trigger itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prefix_rule_that_sets_a_key_below_its_prefix_is_refused_and_one_outside_is_not()
    {
        RuleSpec Spec(string key) => new("p", true, new RuleTrigger(RuleTriggerTypes.KeyChanged, Prefix: "/build"), [new RuleAction(RuleActionTypes.SetKey, Key: key)]);
        Assert.Contains("would trigger itself", Refused(Spec("/build/last")).Message, StringComparison.Ordinal);
        Assert.Null(RuleValidator.Validate(Spec("/buildx"), out _));
    }

    [Fact]
    public void An_event_rule_that_fires_its_own_event_and_a_build_rule_that_builds_its_own_repo_are_refused()
    {
        var events = new RuleSpec("e", true, new RuleTrigger(RuleTriggerTypes.UserEvent, Name: "deploy"), [new RuleAction(RuleActionTypes.FireEvent, Name: "deploy")]);
        Assert.Contains("would trigger itself", Refused(events).Message, StringComparison.Ordinal);
        var builds = new RuleSpec("b", true, new RuleTrigger(RuleTriggerTypes.BuildFinished, Repo: "team/app"), [new RuleAction(RuleActionTypes.StartBuild, Repo: "{{repo}}")]);
        Assert.Equal("actions[0].repo", Refused(builds).Field);
    }

    [Fact]
    public void Key_triggers_match_as_etcd_watches_see_changes()
    {
        static KeyEvent Set(string key) => new(KeyAction.Set, new KeyNodeSnapshot(key, "v", false, null, 0, null, 5, 5), null, 5);
        var exact = new RuleTrigger(RuleTriggerTypes.KeyChanged, Key: "/build_notify");
        var prefix = new RuleTrigger(RuleTriggerTypes.KeyChanged, Prefix: "/build");
        Assert.True(RuleMatching.KeyChanged(exact, Set("/build_notify")));
        Assert.False(RuleMatching.KeyChanged(exact, Set("/build_notify2")));
        Assert.True(RuleMatching.KeyChanged(prefix, Set("/build/a/b")));
        Assert.False(RuleMatching.KeyChanged(prefix, Set("/buildx")));
    }

    [Fact]
    public void Push_triggers_match_the_repository_and_the_branch_filter()
    {
        var t = new RuleTrigger(RuleTriggerTypes.Push, Repo: "team/app", Branches: "main release/* !release/old");
        Assert.True(RuleMatching.Push(t, "team/app", "release/1.2"));
        Assert.False(RuleMatching.Push(t, "team/app", "release/old"));
        Assert.False(RuleMatching.Push(t, "team/app", "feature/x"));
        Assert.False(RuleMatching.Push(t, "team/lib", "main"));
    }

    [Theory]
    [InlineData("failed", "timed_out", true)]
    [InlineData("failed", "passed", false)]
    [InlineData("any", "canceled", true)]
    [InlineData("passed", "passed", true)]
    public void Build_statuses_match_as_documented(string wanted, string state, bool matches) => Assert.Equal(matches, RuleBuildStatuses.Matches(wanted, state));
}
