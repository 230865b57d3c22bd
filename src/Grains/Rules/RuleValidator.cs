using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Builds.Pipelines;
using Platform.Grains.Keys;
using Platform.Protocol;

namespace Platform.Grains.Rules;

/// <summary>A mistake in a rule: the field (<c>trigger.branches</c>, <c>actions[1].key</c>) and what was expected.</summary>
public sealed record RuleError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// Checks a rule before it is stored: the fields of its trigger and action types, branch filters, keys, event names,
/// placeholders, and rules that would trigger themselves directly (docs/rules.md, "Loops").
/// </summary>
public static partial class RuleValidator
{
    /// <summary>Actions one rule may have.</summary>
    public const int MaxActions = 10;

    /// <summary>Longest rule name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Longest text field (a template, a key, an inline manifest excepted).</summary>
    public const int MaxFieldLength = 1024;

    /// <summary>Longest inline manifest.</summary>
    public const int MaxManifestLength = 64 * 1024;

    /// <summary>Null when <paramref name="spec"/> may be stored (then <paramref name="normal"/> is it with keys normalized), else the first mistake.</summary>
    public static RuleError? Validate(RuleSpec spec, out RuleSpec normal)
    {
        ArgumentNullException.ThrowIfNull(spec);
        normal = spec;
        if (string.IsNullOrEmpty(spec.Name)) return new("name", "is empty; expected a name such as 'notify-deployed'");
        if (spec.Name.Length > MaxNameLength || !NamePattern().IsMatch(spec.Name))
            return new("name", $"'{spec.Name}' is not a rule name; expected letters, digits, '.', '_' or '-' (at most {MaxNameLength})");
        if (spec.Trigger is not { } trigger) return new("trigger", "is missing; expected an object such as {\"type\":\"key_changed\",\"key\":\"/build_notify\"}");
        if (CheckTrigger(trigger, out var normalTrigger) is { } bad) return bad;
        if (spec.Actions is not { Count: > 0 } actions) return new("actions", "is missing or empty; expected one or more actions");
        if (actions.Count > MaxActions) return new("actions", $"has {actions.Count} actions; at most {MaxActions} are allowed");
        var provided = RuleTemplate.ProvidedBy(normalTrigger.Type);
        var normalActions = new List<RuleAction>(actions.Count);
        for (var i = 0; i < actions.Count; i++)
        {
            var field = $"actions[{i}]";
            if (actions[i] is not { } action) return new(field, "is null; expected an action object");
            if (CheckAction(action, field, normalTrigger, provided, out var normalAction) is { } badAction) return badAction;
            normalActions.Add(normalAction);
        }
        normal = spec with { Trigger = normalTrigger, Actions = normalActions };
        return null;
    }

    private static RuleError? CheckTrigger(RuleTrigger t, out RuleTrigger normal)
    {
        normal = t;
        if (string.IsNullOrEmpty(t.Type)) return new("trigger.type", $"is missing; expected one of {string.Join(", ", RuleTriggerTypes.All)}");
        switch (t.Type)
        {
            case RuleTriggerTypes.Push:
                if (Only("trigger", "push trigger", (nameof(t.Status), t.Status), (nameof(t.Key), t.Key), (nameof(t.Prefix), t.Prefix), (nameof(t.Name), t.Name)) is { } p) return p;
                return CheckRepo("trigger.repo", t.Repo, template: false) ?? CheckBranches(t.Branches);
            case RuleTriggerTypes.BuildFinished:
                if (Only("trigger", "build_finished trigger", (nameof(t.Key), t.Key), (nameof(t.Prefix), t.Prefix), (nameof(t.Name), t.Name)) is { } b) return b;
                if ((CheckRepo("trigger.repo", t.Repo, template: false) ?? CheckBranches(t.Branches)) is { } bb) return bb;
                if (t.Status is { } status && !RuleBuildStatuses.All.Contains(status))
                    return new("trigger.status", $"'{status}' is not a build status; expected one of {string.Join(", ", RuleBuildStatuses.All)}");
                normal = t with { Status = t.Status ?? RuleBuildStatuses.Any };
                return null;
            case RuleTriggerTypes.KeyChanged:
                if (Only("trigger", "key_changed trigger", (nameof(t.Repo), t.Repo), (nameof(t.Branches), t.Branches), (nameof(t.Status), t.Status), (nameof(t.Name), t.Name)) is { } k) return k;
                if ((t.Key is null) == (t.Prefix is null))
                    return new("trigger.key", "a key_changed trigger needs exactly one of key (one key) or prefix (a directory and every key below it)");
                var field = t.Key is null ? "trigger.prefix" : "trigger.key";
                if (!KeyPath.TryNormalize(t.Key ?? t.Prefix, out var key, out var problem))
                    return new(field, $"'{t.Key ?? t.Prefix}' is not a key: {problem}; expected a path such as /build_notify");
                normal = t.Key is null ? t with { Prefix = key } : t with { Key = key };
                return null;
            case RuleTriggerTypes.UserEvent:
                if (Only("trigger", "user_event trigger", (nameof(t.Repo), t.Repo), (nameof(t.Branches), t.Branches), (nameof(t.Status), t.Status), (nameof(t.Key), t.Key), (nameof(t.Prefix), t.Prefix)) is { } u) return u;
                if (string.IsNullOrEmpty(t.Name)) return new("trigger.name", "is missing; expected the user event's name, such as 'deploy'");
                return UserEvents.Validate(t.Name, []) is { } invalid ? new("trigger.name", invalid) : null;
            default:
                return new("trigger.type", $"'{t.Type}' is not a trigger type; expected one of {string.Join(", ", RuleTriggerTypes.All)}");
        }
    }

    private static RuleError? CheckBranches(string? branches)
    {
        if (branches is null) return null;
        if (string.IsNullOrWhiteSpace(branches)) return new("trigger.branches", "is empty; leave it out to match every branch, or give patterns such as 'main release/*'");
        try
        {
            BranchFilter.Parse(branches);
            return null;
        }
        catch (FormatException e)
        {
            return new("trigger.branches", $"'{branches}' is not a branch filter: {e.Message}");
        }
    }

    private static RuleError? CheckRepo(string field, string? repo, bool template)
    {
        if (string.IsNullOrEmpty(repo)) return new(field, "is missing; expected a repository such as 'team/app'");
        if (repo.Length > 200 || repo.Any(char.IsWhiteSpace) || (!template && repo.Contains("{{", StringComparison.Ordinal)))
            return new(field, $"'{repo}' is not a repository name; expected a name such as 'team/app' without spaces");
        return null;
    }

    private static RuleError? CheckAction(RuleAction a, string field, RuleTrigger trigger, IReadOnlyList<string> provided, out RuleAction normal)
    {
        normal = a;
        if (string.IsNullOrEmpty(a.Type)) return new($"{field}.type", $"is missing; expected one of {string.Join(", ", RuleActionTypes.All)}");
        RuleError? Template(string name, string? text, int max = MaxFieldLength)
        {
            if (text is null) return null;
            if (text.Length > max) return new($"{field}.{name}", $"is {text.Length} characters long; at most {max} are allowed");
            return RuleTemplate.Check(text, provided, trigger.Type) is { } why ? new($"{field}.{name}", why) : null;
        }
        switch (a.Type)
        {
            case RuleActionTypes.StartBuild:
                if (Only(field, "start_build action", (nameof(a.ManifestUrl), a.ManifestUrl), (nameof(a.Manifest), a.Manifest), (nameof(a.Target), a.Target), (nameof(a.Strategy), a.Strategy), (nameof(a.Stretch), a.Stretch), (nameof(a.Key), a.Key), (nameof(a.Value), a.Value), (nameof(a.Name), a.Name), (nameof(a.Payload), a.Payload)) is { } sb) return sb;
                // The pipeline is the file the repository carries at the commit built; a rule cannot name another.
                if (a.Pipeline is not null)
                    return new($"{field}.pipeline", $"is not supported: a build runs the pipeline file its repository carries ({Pipeline.DefaultPath}) at the commit built");
                if ((CheckRepo($"{field}.repo", a.Repo, template: true) ?? Template("repo", a.Repo) ?? Template("branch", a.Branch)) is { } sbt) return sbt;
                if (trigger.Type == RuleTriggerTypes.BuildFinished && (a.Repo == trigger.Repo || RuleTemplate.Uses(a.Repo, RuleTemplate.Repo)))
                    return new($"{field}.repo", $"starts a build of '{trigger.Repo}', whose finishing triggers this rule: the rule would trigger itself; start another repository's build, or trigger on a push");
                // The branch defaults to the trigger's when the trigger has one; the silo knows no repository's default branch.
                if (a.Branch is null && !provided.Contains(RuleTemplate.Branch))
                    return new($"{field}.branch", $"is required: a {trigger.Type} trigger gives no {{{{branch}}}} to build, and the silo knows no repository's default branch; name one (\"branch\": \"main\")");
                if (a.Branch is null) normal = a with { Branch = "{{branch}}" };
                return null;
            case RuleActionTypes.StartDeploy:
                if (Only(field, "start_deploy action", (nameof(a.Repo), a.Repo), (nameof(a.Branch), a.Branch), (nameof(a.Pipeline), a.Pipeline), (nameof(a.Key), a.Key), (nameof(a.Value), a.Value), (nameof(a.Name), a.Name), (nameof(a.Payload), a.Payload)) is { } sd) return sd;
                if ((a.ManifestUrl is null) == (a.Manifest is null))
                    return new($"{field}.manifestUrl", "a start_deploy action needs exactly one of manifestUrl (where the Stretcher manifest is) or manifest (the manifest itself)");
                if ((Template("manifestUrl", a.ManifestUrl) ?? Template("manifest", a.Manifest, MaxManifestLength)) is { } sdt) return sdt;
                if (a.ManifestUrl is { } url && !Uri.TryCreate(RuleTemplate.Render(url, Sample), UriKind.Absolute, out _))
                    return new($"{field}.manifestUrl", $"'{url}' is not an absolute URL; expected one such as https://artifacts.example/app/{{{{commit}}}}/manifest.yml or s3://bucket/manifest.yml");
                if (a.Manifest is { } m && string.IsNullOrWhiteSpace(m)) return new($"{field}.manifest", "is empty; expected a Stretcher manifest (YAML)");
                if (CheckTarget($"{field}.target", a.Target) is { } st) return st;
                if (a.Strategy is { } strategy && strategy.ValueKind != JsonValueKind.Object)
                    return new($"{field}.strategy", $"is a JSON {strategy.ValueKind.ToString().ToLowerInvariant()}; expected an object with the deploy API's strategy fields (batch, max_parallel, failure_threshold, pause, node_timeout)");
                if (a.Stretch is { } stretch && stretch.ValueKind != JsonValueKind.Object)
                    return new($"{field}.stretch", $"is a JSON {stretch.ValueKind.ToString().ToLowerInvariant()}; expected an object with the deploy API's stretch fields (retry, retry_wait, random_delay, max_bandwidth)");
                return null;
            case RuleActionTypes.SetKey:
                if (Only(field, "set_key action", (nameof(a.Repo), a.Repo), (nameof(a.Branch), a.Branch), (nameof(a.Pipeline), a.Pipeline), (nameof(a.ManifestUrl), a.ManifestUrl), (nameof(a.Manifest), a.Manifest), (nameof(a.Target), a.Target), (nameof(a.Strategy), a.Strategy), (nameof(a.Stretch), a.Stretch), (nameof(a.Name), a.Name), (nameof(a.Payload), a.Payload)) is { } sk) return sk;
                if (string.IsNullOrEmpty(a.Key)) return new($"{field}.key", "is missing; expected the key to set, such as /build_notify");
                if ((Template("key", a.Key) ?? Template("value", a.Value)) is { } skt) return skt;
                if (!KeyPath.TryNormalize(RuleTemplate.Render(a.Key, Sample), out var sampleKey, out var problem))
                    return new($"{field}.key", $"'{a.Key}' is not a key: {problem}; expected a path such as /build_notify");
                if (trigger.Type == RuleTriggerTypes.KeyChanged)
                {
                    var watched = trigger.Key ?? trigger.Prefix!;
                    var hits = RuleTemplate.Uses(a.Key, RuleTemplate.Key)
                        || (!a.Key.Contains("{{", StringComparison.Ordinal) && (sampleKey == watched || (trigger.Prefix is not null && KeyPath.IsBelow(sampleKey, watched))));
                    if (hits)
                        return new($"{field}.key", $"sets '{a.Key}', which this rule's trigger watches ({(trigger.Key is null ? "prefix" : "key")} '{watched}'): the rule would trigger itself; set another key");
                }
                normal = a.Key.Contains("{{", StringComparison.Ordinal) ? a with { Value = a.Value ?? "" } : a with { Key = sampleKey, Value = a.Value ?? "" };
                return null;
            case RuleActionTypes.FireEvent:
                if (Only(field, "fire_event action", (nameof(a.Repo), a.Repo), (nameof(a.Branch), a.Branch), (nameof(a.Pipeline), a.Pipeline), (nameof(a.ManifestUrl), a.ManifestUrl), (nameof(a.Manifest), a.Manifest), (nameof(a.Target), a.Target), (nameof(a.Strategy), a.Strategy), (nameof(a.Stretch), a.Stretch), (nameof(a.Key), a.Key), (nameof(a.Value), a.Value)) is { } fe) return fe;
                if (string.IsNullOrEmpty(a.Name)) return new($"{field}.name", "is missing; expected the user event's name, such as 'deployed'");
                if (a.Name.Contains("{{", StringComparison.Ordinal)) return new($"{field}.name", $"'{a.Name}' holds a placeholder; an event's name is written out, only its payload may use placeholders");
                if (UserEvents.Validate(a.Name, []) is { } invalid) return new($"{field}.name", invalid);
                if (Template("payload", a.Payload) is { } fet) return fet;
                if (trigger.Type == RuleTriggerTypes.UserEvent && a.Name == trigger.Name)
                    return new($"{field}.name", $"fires '{a.Name}', the event this rule's trigger listens to: the rule would trigger itself; fire another event");
                normal = a with { Payload = a.Payload ?? "" };
                return null;
            default:
                return new($"{field}.type", $"'{a.Type}' is not an action type; expected one of {string.Join(", ", RuleActionTypes.All)}");
        }
    }

    private static RuleError? CheckTarget(string field, RuleDeployTarget? target)
    {
        if (target is null) return new(field, "is missing; expected {\"nodes\":[\"web-1\"]}, {\"tags\":{\"role\":\"web\"}} or {\"all\":true}");
        var kinds = (target.Nodes is not null ? 1 : 0) + (target.Tags is not null ? 1 : 0) + (target.All ? 1 : 0);
        if (kinds != 1) return new(field, "needs exactly one of nodes (names), tags (tag → regular expression) or all (true)");
        if (target.Nodes is { } nodes)
        {
            if (nodes.Count == 0) return new($"{field}.nodes", "is empty; expected one or more node names");
            for (var i = 0; i < nodes.Count; i++)
                if (string.IsNullOrWhiteSpace(nodes[i])) return new($"{field}.nodes[{i}]", "is empty; expected a node name");
        }
        if (target.Tags is { } tags)
        {
            if (tags.Count == 0) return new($"{field}.tags", "is empty; expected one or more tag → regular expression pairs, such as {\"role\":\"web\"}");
            foreach (var (tag, expr) in tags)
            {
                if (string.IsNullOrEmpty(tag)) return new($"{field}.tags", "has an empty tag name");
                try
                {
                    _ = new Regex(expr, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    return new($"{field}.tags.{tag}", $"'{expr}' is not a valid regular expression: {e.Message}");
                }
            }
        }
        return null;
    }

    /// <summary>Refuses a field that does not belong to the type: a misplaced field is a mistake, never silently ignored.</summary>
    private static RuleError? Only(string field, string what, params (string Name, object? Value)[] foreign)
    {
        foreach (var (name, value) in foreign)
            if (value is not null) return new($"{field}.{char.ToLowerInvariant(name[0])}{name[1..]}", $"is not a field of a {what}");
        return null;
    }

    /// <summary>Stand-in facts for checking the shape of a templated key or URL.</summary>
    private static readonly Dictionary<string, string> Sample = RuleTemplate.All.ToDictionary(n => n, _ => "x", StringComparer.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9._-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
