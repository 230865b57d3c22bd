using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>
/// The recent deploys of every target (<c>deploys/default</c>): one summary per deploy, newest first, the last
/// <see cref="DeploysOptions.HistoryRecent"/> kept. <see cref="DeployHistory"/> reads it with each target's own history.
/// </summary>
public interface IDeployIndexGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces the summary of a deploy, and tells the followers.</summary>
    Task Record(DeploySummary summary);

    /// <summary>Subscribes (or renews) <paramref name="observer"/> to every summary recorded from now on; answers nothing (read <see cref="List"/> after).</summary>
    Task Follow(IDeployObserver observer);

    /// <summary>The newest <paramref name="limit"/> recent deploys, those whose target description contains <paramref name="target"/> when given.</summary>
    [ReadOnly]
    Task<List<DeploySummary>> List(string? target, int limit);
}

/// <summary>A deploy in the history: its target, status and node counts by status.</summary>
public sealed record DeploySummary(string Id, string Target, string Status, DateTimeOffset Created, DateTimeOffset? Finished, Dictionary<string, int> Counts)
{
    /// <summary>The deploy's state revision this summary was made from (<see cref="DeployView.Revision"/>).</summary>
    public long Revision { get; init; }
}
