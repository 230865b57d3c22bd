using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>
/// The targets deployed to (<c>deploy-targets/default</c>), each with its newest deploy's start, the
/// <see cref="DeploysOptions.HistoryTargets"/> most recent kept: what a search by part of a target looks through.
/// </summary>
public interface IDeployTargetsGrain : IGrainWithStringKey
{
    /// <summary>Notes that a deploy to <paramref name="target"/> started at <paramref name="created"/>.</summary>
    Task Deployed(string target, DateTimeOffset created);

    /// <summary>The targets whose description contains <paramref name="text"/>, the most recently deployed to first.</summary>
    [ReadOnly]
    Task<List<DeployTargetEntry>> Matching(string text);
}

/// <summary>A target and the start of its newest deploy.</summary>
public sealed record DeployTargetEntry(string Target, DateTimeOffset Newest);
