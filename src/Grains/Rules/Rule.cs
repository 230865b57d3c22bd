using System.Text.Json;

namespace Platform.Grains.Rules;

/// <summary>A stored rule: "if <see cref="Trigger"/> then <see cref="Actions"/>" (docs/rules.md). Data only, never a script.</summary>
public sealed record Rule(string Id, string Name, bool Enabled, RuleTrigger Trigger, List<RuleAction> Actions, DateTimeOffset Created, DateTimeOffset Updated)
{
    /// <summary>The rule as a client gives it (no id, no times).</summary>
    public RuleSpec Spec => new(Name, Enabled, Trigger, Actions);
}

/// <summary>What a client asks to store: a name, whether it runs, one trigger and one or more actions.</summary>
public sealed record RuleSpec(string Name, bool Enabled, RuleTrigger? Trigger, List<RuleAction>? Actions);

/// <summary>
/// The "if" of a rule: <see cref="Type"/> is one of <see cref="RuleTriggerTypes"/>; the other fields are those of that type
/// (push: repo, branches; build_finished: repo, branches, status; key_changed: key or prefix; user_event: name).
/// </summary>
public sealed record RuleTrigger(
    string Type,
    string? Repo = null,
    string? Branches = null,
    string? Status = null,
    string? Key = null,
    string? Prefix = null,
    string? Name = null);

/// <summary>
/// One "then" of a rule: <see cref="Type"/> is one of <see cref="RuleActionTypes"/>; text fields may hold the trigger's
/// placeholders (<see cref="RuleTemplate"/>).
/// </summary>
public sealed record RuleAction(
    string Type,
    string? Repo = null,
    string? Branch = null,
    string? Pipeline = null,
    string? ManifestUrl = null,
    string? Manifest = null,
    RuleDeployTarget? Target = null,
    JsonElement? Strategy = null,
    string? Key = null,
    string? Value = null,
    string? Name = null,
    string? Payload = null,
    JsonElement? Stretch = null);

/// <summary>Where a deploy goes: named nodes, nodes whose tags match regular expressions, or every node (exactly one of the three).</summary>
public sealed record RuleDeployTarget(List<string>? Nodes = null, Dictionary<string, string>? Tags = null, bool All = false);

/// <summary>The trigger types.</summary>
public static class RuleTriggerTypes
{
    public const string Push = "push";
    public const string BuildFinished = "build_finished";
    public const string KeyChanged = "key_changed";
    public const string UserEvent = "user_event";

    public static readonly IReadOnlyList<string> All = [Push, BuildFinished, KeyChanged, UserEvent];
}

/// <summary>The action types.</summary>
public static class RuleActionTypes
{
    public const string StartBuild = "start_build";
    public const string StartDeploy = "start_deploy";
    public const string SetKey = "set_key";
    public const string FireEvent = "fire_event";

    public static readonly IReadOnlyList<string> All = [StartBuild, StartDeploy, SetKey, FireEvent];
}

/// <summary>The build outcomes a build_finished trigger can ask for.</summary>
public static class RuleBuildStatuses
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
    public const string Any = "any";

    public static readonly IReadOnlyList<string> All = [Passed, Failed, Canceled, Any];

    /// <summary>Whether a build that ended in state <paramref name="state"/> matches <paramref name="wanted"/>: <c>failed</c> takes <c>timed_out</c> too.</summary>
    public static bool Matches(string wanted, string state) => wanted switch
    {
        Any => true,
        Failed => state is "failed" or "timed_out",
        _ => string.Equals(wanted, state, StringComparison.Ordinal),
    };
}
