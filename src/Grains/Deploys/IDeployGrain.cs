using System.Globalization;
using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>
/// One deploy (<c>deploy/&lt;id&gt;</c>): its request, the batches it planned and every node's run, durable; it drives
/// itself with a reminder while it runs, so it carries on after its silo dies (docs/deploys.md, "Cluster deploys").
/// </summary>
public interface IDeployGrain : IGrainWithStringKey
{
    /// <summary>Resolves the target against the fleet, plans the batches and starts; an error (naming the field) when it cannot.</summary>
    Task<DeployStartResult> Start(DeploySpec spec);

    /// <summary>The deploy now; null when no deploy has this id.</summary>
    [ReadOnly]
    Task<DeployView?> Get();

    /// <summary>No node starts from now on; with <paramref name="stop"/> the running ones are stopped too. Null when unknown.</summary>
    Task<DeployView?> Cancel(bool stop);

    /// <summary>
    /// A node's agent reports how its run ended; true once it is stored (the agent may stop resending it). Interleaved:
    /// reports that arrive together are stored by one write.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> Report(DeployNodeReport report);

    /// <summary>
    /// Subscribes (or renews) <paramref name="observer"/> to every change of this deploy from now on and answers the deploy
    /// now (null, and no subscription, when unknown). A subscription not renewed within <see cref="DeployFollow.Expiry"/> ends.
    /// </summary>
    Task<DeployView?> Follow(IDeployObserver observer);

    /// <summary>Whether <paramref name="node"/> is one of this deploy's nodes (a hub checks it before storing output the node's agent sends).</summary>
    [ReadOnly]
    Task<bool> Includes(string node);
}

/// <summary>A silo's deploy followers (docs/deploys.md, "Following"): told each change of a deploy, and of the history.</summary>
public interface IDeployObserver : IGrainObserver
{
    /// <summary>The deploy after a change, once it is durable.</summary>
    [OneWay]
    Task DeployChanged(DeployView deploy);

    /// <summary>A deploy's summary in the history after it was recorded.</summary>
    [OneWay]
    Task SummaryChanged(DeploySummary summary);
}

/// <summary>How long a follow subscription lasts, and how often a follower renews it (which also catches up on a missed change).</summary>
public static class DeployFollow
{
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan Renew = TimeSpan.FromSeconds(10);
}

/// <summary>What a deploy is asked to do: one of <see cref="ManifestUrl"/> and <see cref="Manifest"/> (inline YAML), a target and a strategy.</summary>
public sealed record DeploySpec
{
    public string? ManifestUrl { get; init; }

    public string? Manifest { get; init; }

    public DeployTarget Target { get; init; } = new();

    public DeployStrategy Strategy { get; init; } = new();

    /// <summary>Stretcher's options each node runs the manifest with; null: Stretcher's defaults.</summary>
    public Platform.Protocol.DeployStretchOptions? Stretch { get; init; }

    /// <summary>Set this key (value: the deploy's id and status as JSON) and fire this user event when the deploy ends; null for none.</summary>
    public DeployNotify? OnFinish { get; init; }
}

/// <summary>Which nodes: by <see cref="Nodes"/> (exact names), <see cref="Tags"/> (tag → regular expression, all must match) or <see cref="All"/>.</summary>
public sealed record DeployTarget
{
    public List<string> Nodes { get; init; } = [];

    public Dictionary<string, string> Tags { get; init; } = new(StringComparer.Ordinal);

    public bool All { get; init; }

    /// <summary>The target in one line, for history and its filter: <c>all</c>, <c>nodes=a,b</c>, <c>tags=role:web</c>.</summary>
    public string Describe()
    {
        if (All) return "all";
        var parts = new List<string>(2);
        if (Nodes.Count != 0) parts.Add("nodes=" + string.Join(',', Nodes));
        if (Tags.Count != 0) parts.Add("tags=" + string.Join(',', Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}:{t.Value}")));
        return string.Join(' ', parts);
    }
}

/// <summary>What a finished deploy announces: a key set in the default keyspace and a user event fired (either may be null).</summary>
public sealed record DeployNotify(string? Key, string? Event);

/// <summary>An agent's report of one node's run.</summary>
public sealed record DeployNodeReport(string Node, string Status, int ExitCode, long DurationMs, string OutputTail);

/// <summary>The answer to <see cref="IDeployGrain.Start"/>: the deploy, or why it did not start (and the HTTP status that says so).</summary>
public sealed record DeployStartResult(DeployView? Deploy, string? Error, int ErrorStatus = 400);

/// <summary>A deploy as the API shows it.</summary>
public sealed record DeployView(
    string Id,
    string Status,
    DeploySpec Spec,
    string Target,
    DateTimeOffset Created,
    DateTimeOffset? Finished,
    int CurrentBatch,
    int BatchCount,
    string? StopReason,
    List<DeployNodeView> Nodes)
{
    /// <summary>The state's write count: of two views of one deploy, the higher is the newer.</summary>
    public long Revision { get; init; }
}

/// <summary>One node's run in a deploy.</summary>
public sealed record DeployNodeView(
    string Node,
    int Batch,
    string Status,
    int? ExitCode,
    long? DurationMs,
    DateTimeOffset? Started,
    DateTimeOffset? Finished,
    string? Reason,
    string OutputTail);

/// <summary>
/// Where a node's deploy output is kept: a job log grain (<c>joblog/!deploy/{deploy id}/{node}</c>), durable and
/// resumable as a build job's. No build's log key starts with '!' (repository names cannot), and deploy ids have no '/'.
/// </summary>
public static class DeployLogKeys
{
    public static string Log(string deployId, string node) => string.Create(CultureInfo.InvariantCulture, $"!deploy/{deployId}/{node}");
}
