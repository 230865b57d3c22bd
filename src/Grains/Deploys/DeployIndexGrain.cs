using Microsoft.Extensions.Options;
using Platform.Runtime;
using Platform.Runtime.Observers;

namespace Platform.Grains.Deploys;

/// <summary>
/// The recent deploys of every target, newest first, the last <see cref="DeploysOptions.HistoryRecent"/> kept (their
/// deploy grains stay readable by id; each target keeps its own in <see cref="IDeployTargetHistoryGrain"/>); and the
/// history's followers.
/// </summary>
[GrainType("deploys")]
internal sealed class DeployIndexGrain([PersistentState("deploys")] IPersistentState<DeployIndexState> state, IOptions<DeploysOptions> options)
    : Grain, IDeployIndexGrain
{
    private readonly ObserverManager<IDeployObserver> _followers = new(DeployFollow.Expiry);

    public Task Follow(IDeployObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _followers.Subscribe(observer);
        return Task.CompletedTask;
    }

    public async Task Record(DeploySummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var list = state.State.Deploys;
        var kept = options.Value.HistoryRecent;
        // A list stored with a larger limit shrinks at its next write.
        if (DeploySummaries.Put(list, summary, kept) || list.Count > kept)
        {
            if (list.Count > kept) list.RemoveRange(kept, list.Count - kept);
            await state.WriteStateAsync();
        }
        _followers.Notify(f => f.SummaryChanged(summary));
    }

    public Task<List<DeploySummary>> List(string? target, int limit)
    {
        var found = new List<DeploySummary>();
        foreach (var d in state.State.Deploys)
        {
            if (found.Count >= limit) break;
            if (string.IsNullOrEmpty(target) || d.Target.Contains(target, StringComparison.Ordinal)) found.Add(d);
        }
        return Task.FromResult(found);
    }
}

/// <summary>The recent deploys as stored: newest first.</summary>
public sealed class DeployIndexState
{
    public List<DeploySummary> Deploys { get; set; } = [];
}
