using Platform.Runtime;
using Platform.Runtime.Observers;

namespace Platform.Grains.Deploys;

/// <summary>The deploy history, newest first; the oldest summaries go past <see cref="Kept"/> (their deploy grains stay readable by id).</summary>
[GrainType("deploys")]
internal sealed class DeployIndexGrain([PersistentState("deploys")] IPersistentState<DeployIndexState> state) : Grain, IDeployIndexGrain
{
    /// <summary>Summaries kept.</summary>
    public const int Kept = 1000;

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
        var at = list.FindIndex(d => d.Id == summary.Id);
        if (at >= 0) list[at] = summary;
        else
        {
            list.Insert(0, summary);
            if (list.Count > Kept) list.RemoveRange(Kept, list.Count - Kept);
        }
        await state.WriteStateAsync();
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

/// <summary>The history as stored: newest first.</summary>
public sealed class DeployIndexState
{
    public List<DeploySummary> Deploys { get; set; } = [];
}
