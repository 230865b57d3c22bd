using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Client;

/// <summary>A stored rule (<c>GET /v1/rules/{id}</c>): "if <see cref="Trigger"/> then <see cref="Actions"/>" (docs/rules.md).</summary>
public sealed record Rule(string Id, string Name, bool Enabled, RuleTrigger Trigger, List<RuleAction> Actions, DateTimeOffset Created, DateTimeOffset Updated);

/// <summary>A rule to store: a name, one trigger, one or more actions.</summary>
public sealed record RuleSpec(string Name, RuleTrigger Trigger, List<RuleAction> Actions, bool Enabled = true);

/// <summary>The "if": <c>push</c> (repo, branches), <c>build_finished</c> (repo, branches, status), <c>key_changed</c> (key or prefix), <c>user_event</c> (name).</summary>
public sealed record RuleTrigger(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Repo = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Branches = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Prefix = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null);

/// <summary>A "then": <c>start_build</c>, <c>start_deploy</c>, <c>set_key</c> or <c>fire_event</c>, with that type's fields.</summary>
public sealed record RuleAction(
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Repo = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Branch = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Pipeline = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ManifestUrl = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Manifest = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RuleDeployTarget? Target = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Strategy = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Payload = null);

/// <summary>A deploy's target: node names, tag regular expressions, or every node.</summary>
public sealed record RuleDeployTarget(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<string>? Nodes = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, string>? Tags = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool All = false);

/// <summary>What a rule did for one occurrence of its trigger (<c>GET /v1/rules/{id}/runs</c>); <see cref="Outcome"/> is pending, succeeded or failed.</summary>
public sealed record RuleRun(
    string Id,
    string RuleId,
    string Trigger,
    string Occurrence,
    Dictionary<string, string> Facts,
    int Depth,
    DateTimeOffset At,
    DateTimeOffset? Finished,
    string Outcome,
    List<RuleActionResult> Actions,
    string? Error);

/// <summary>One action of a run: succeeded, failed, or skipped (found already done after a restart).</summary>
public sealed record RuleActionResult(string Type, string Outcome, string? Detail, string? Error);
