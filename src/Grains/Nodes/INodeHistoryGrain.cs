using Platform.Runtime;

namespace Platform.Grains.Nodes;

/// <summary>
/// What ran on one node (<c>nodehistory/&lt;name&gt;</c>): its part in the last deploys and the last build jobs it ran,
/// newest first (docs/nodes.md, "A node's history"). Told by the deploy and build grains once their own state is
/// stored; the deploy and the build stay the source of truth.
/// </summary>
public interface INodeHistoryGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces the node's run in a deploy (one entry per deploy).</summary>
    [OneWay]
    Task RecordDeploy(NodeDeployEntry entry);

    /// <summary>Adds or replaces an attempt of a build job the node ran (one entry per job attempt).</summary>
    [OneWay]
    Task RecordJob(NodeJobEntry entry);

    /// <summary>The newest <paramref name="limit"/> deploys the node took part in.</summary>
    [ReadOnly]
    Task<List<NodeDeployEntry>> Deploys(int limit);

    /// <summary>The newest <paramref name="limit"/> job attempts the node ran.</summary>
    [ReadOnly]
    Task<List<NodeJobEntry>> Jobs(int limit);
}

/// <summary>How much of a node's history is kept.</summary>
public static class NodeHistoryLimits
{
    /// <summary>Deploys, and job attempts, kept per node.</summary>
    public const int Kept = 100;
}

/// <summary>A node's run in a deploy: the deploy, its target, and how the node's part went.</summary>
public sealed record NodeDeployEntry(
    string Deploy, string Target, string Status, int Batch, int? ExitCode, long? DurationMs,
    DateTimeOffset? Started, DateTimeOffset? Finished, string? Reason);

/// <summary>An attempt of a build job on a node: the build, the job, and how the attempt went.</summary>
public sealed record NodeJobEntry(
    string Build, string Repository, string Branch, int Number, string Job, string Label, int Attempt, string State,
    int? ExitStatus, DateTimeOffset? Started, DateTimeOffset? Finished, string? Error);
