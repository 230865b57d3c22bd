using Microsoft.Extensions.Options;
using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>One target's deploys: a write stores this target's few summaries, never the whole history.</summary>
[GrainType("deploy-history")]
internal sealed class DeployTargetHistoryGrain(
    [PersistentState("deploy-history")] IPersistentState<DeployTargetHistoryState> state,
    IOptions<DeploysOptions> options) : Grain, IDeployTargetHistoryGrain
{
    public async Task Record(DeploySummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var list = state.State.Deploys;
        var isNew = !list.Exists(d => d.Id == summary.Id);
        if (!DeploySummaries.Put(list, summary, options.Value.HistoryPerTarget)) return;
        await state.WriteStateAsync();
        // The directory learns of the target at its deploys' starts, so a search by part of the target finds it.
        if (isNew) await GrainFactory.GetGrain<IDeployTargetsGrain>(DeployTargetsGrain.DefaultKey).Deployed(GetPrimaryKeyString(), summary.Created);
    }

    public Task<List<DeploySummary>> List(int limit) => Task.FromResult(state.State.Deploys.Take(limit).ToList());
}

/// <summary>A target's deploys as stored: newest first.</summary>
public sealed class DeployTargetHistoryState
{
    public List<DeploySummary> Deploys { get; set; } = [];
}
