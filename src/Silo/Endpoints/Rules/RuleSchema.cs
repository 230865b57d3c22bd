using Platform.Grains.Rules;

namespace Platform.Silo.Endpoints.Rules;

/// <summary>
/// <c>GET /v1/rules/schema</c>: every trigger and action type with its fields, and the placeholders each trigger provides,
/// so a form can offer them as choices (docs/rules.md, "Schema"). Built from the same lists the validator checks against.
/// </summary>
public static class RuleSchema
{
    /// <summary>The answer; it changes only with the silo's version.</summary>
    public static readonly RuleSchemaAnswer Answer = new(
        [
            new(RuleTriggerTypes.Push, "a push to a repository's branch", [Repo(true), Field("branches", "branches", false, "branch filter: main release/* !release/old; empty for every branch")], RuleTemplate.ProvidedBy(RuleTriggerTypes.Push)),
            new(RuleTriggerTypes.BuildFinished, "a build ended", [Repo(true), Field("branches", "branches", false, "branch filter; empty for every branch"), Choice("status", RuleBuildStatuses.All, "any")], RuleTemplate.ProvidedBy(RuleTriggerTypes.BuildFinished)),
            new(RuleTriggerTypes.KeyChanged, "a key changed (set, delete, expiry)", [Field("key", "key", false, "that key (exactly one of key and prefix)"), Field("prefix", "key", false, "that key and every key below it")], RuleTemplate.ProvidedBy(RuleTriggerTypes.KeyChanged)),
            new(RuleTriggerTypes.UserEvent, "a user event was fired", [Field("name", "event", true, "the event's name")], RuleTemplate.ProvidedBy(RuleTriggerTypes.UserEvent)),
        ],
        [
            new(RuleActionTypes.StartBuild, "start a build", [Repo(true), Field("branch", "text", false, "empty: the trigger's branch (required when the trigger gives none)")], []),
            new(RuleActionTypes.StartDeploy, "deploy a manifest to nodes", [Field("manifestUrl", "text", false, "the manifest's URL (exactly one of manifestUrl and manifest)"), Field("manifest", "text", false, "a Stretcher manifest inline"), Field("target", "target", true, "nodes, tags (regular expressions) or all"), Field("strategy", "strategy", false, "the deploy API's strategy object"), Field("stretch", "strategy", false, "the deploy API's stretch object (Stretcher's options)")], []),
            new(RuleActionTypes.SetKey, "set a key", [Field("key", "key", true, "the key to set"), Field("value", "text", false, "empty: an empty value")], []),
            new(RuleActionTypes.FireEvent, "fire a user event", [Field("name", "event", true, "the event's name (no placeholders)"), Field("payload", "text", false, "the event's payload")], []),
        ],
        RuleTemplate.All);

    private static RuleSchemaField Repo(bool required) => Field("repo", "repo", required, "a registered repository (GET /v1/repos)");

    private static RuleSchemaField Field(string name, string kind, bool required, string help) => new(name, kind, required, help, null, null);

    private static RuleSchemaField Choice(string name, IReadOnlyList<string> choices, string @default) => new(name, "choice", false, "one of the choices", choices, @default);
}

/// <summary>The trigger and action types a rule can have, and every placeholder there is.</summary>
public sealed record RuleSchemaAnswer(List<RuleSchemaType> Triggers, List<RuleSchemaType> Actions, IReadOnlyList<string> Placeholders);

/// <summary>One trigger or action type: what it means, its fields, and (triggers) the placeholders it provides to actions' text fields.</summary>
public sealed record RuleSchemaType(string Type, string Description, List<RuleSchemaField> Fields, IReadOnlyList<string> Provides);

/// <summary>
/// A field: its JSON name; <c>kind</c> says what it takes (<c>repo</c>: a registered repository's name, <c>branches</c>: a
/// branch filter, <c>key</c>: a key path, <c>event</c>: a user event's name, <c>text</c>: text that may hold placeholders,
/// <c>choice</c>: one of <c>choices</c>, <c>target</c> and <c>strategy</c>: the deploy API's objects).
/// </summary>
public sealed record RuleSchemaField(string Name, string Kind, bool Required, string Help, IReadOnlyList<string>? Choices, string? Default);
