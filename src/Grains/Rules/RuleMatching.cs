using Platform.Builds.Pipelines;
using Platform.Grains.Keys;

namespace Platform.Grains.Rules;

/// <summary>Which rules an occurrence triggers, and the facts it gives their placeholders.</summary>
public static class RuleMatching
{
    /// <summary>Whether a push to <paramref name="repo"/> on <paramref name="branch"/> triggers <paramref name="t"/>.</summary>
    public static bool Push(RuleTrigger t, string repo, string branch)
        => t.Type == RuleTriggerTypes.Push && t.Repo == repo && Branches(t, branch);

    /// <summary>Whether a build of <paramref name="repo"/> on <paramref name="branch"/> ending in <paramref name="status"/> triggers <paramref name="t"/>.</summary>
    public static bool BuildFinished(RuleTrigger t, string repo, string branch, string status)
        => t.Type == RuleTriggerTypes.BuildFinished && t.Repo == repo && Branches(t, branch) && RuleBuildStatuses.Matches(t.Status ?? RuleBuildStatuses.Any, status);

    /// <summary>Whether key change <paramref name="e"/> triggers <paramref name="t"/>: the key itself, or (prefix) it and any key below, as an etcd watch sees them.</summary>
    public static bool KeyChanged(RuleTrigger t, KeyEvent e)
        => t.Type == RuleTriggerTypes.KeyChanged && (t.Key is { } key ? e.IsVisibleTo(key, recursive: false) : e.IsVisibleTo(t.Prefix!, recursive: true));

    /// <summary>Whether a user event named <paramref name="name"/> triggers <paramref name="t"/>.</summary>
    public static bool UserEvent(RuleTrigger t, string name) => t.Type == RuleTriggerTypes.UserEvent && t.Name == name;

    private static bool Branches(RuleTrigger t, string branch) => t.Branches is not { } filter || BranchFilter.Parse(filter).Matches(branch);

    public static Dictionary<string, string> PushFacts(string repo, string branch, string commit) => new(StringComparer.Ordinal)
    {
        [RuleTemplate.Repo] = repo,
        [RuleTemplate.Branch] = branch,
        [RuleTemplate.Commit] = commit,
    };

    public static Dictionary<string, string> BuildFacts(string repo, string branch, string? commit, string buildId, string status) => new(StringComparer.Ordinal)
    {
        [RuleTemplate.Repo] = repo,
        [RuleTemplate.Branch] = branch,
        [RuleTemplate.Commit] = commit ?? "",
        [RuleTemplate.BuildId] = buildId,
        [RuleTemplate.Status] = status,
    };

    public static Dictionary<string, string> KeyFacts(KeyEvent e) => new(StringComparer.Ordinal)
    {
        [RuleTemplate.Key] = e.Node.Key,
        [RuleTemplate.Value] = e.Node.Value ?? "",
    };

    public static Dictionary<string, string> EventFacts(string name, byte[] payload) => new(StringComparer.Ordinal)
    {
        [RuleTemplate.Event] = name,
        [RuleTemplate.Payload] = System.Text.Encoding.UTF8.GetString(payload),
    };
}
