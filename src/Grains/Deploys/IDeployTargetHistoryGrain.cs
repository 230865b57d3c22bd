using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>
/// One target's deploys (<c>deploy-history/{target description}</c>), newest first, the last
/// <see cref="DeploysOptions.HistoryPerTarget"/> kept: deploys to other targets never push them out.
/// </summary>
public interface IDeployTargetHistoryGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces the summary of a deploy to this target.</summary>
    Task Record(DeploySummary summary);

    /// <summary>The newest <paramref name="limit"/> deploys to this target.</summary>
    [ReadOnly]
    Task<List<DeploySummary>> List(int limit);
}
