using Platform.Runtime;

namespace Platform.Grains.Nodes;

/// <summary>A node's deploys and build jobs, the last <see cref="NodeHistoryLimits.Kept"/> of each, newest (by start) first.</summary>
[GrainType("nodehistory")]
internal sealed class NodeHistoryGrain([PersistentState("nodehistory")] IPersistentState<NodeHistoryState> state) : Grain, INodeHistoryGrain
{
    public Task RecordDeploy(NodeDeployEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Upsert(state.State.Deploys, entry, d => d.Deploy == entry.Deploy, d => d.Finished is not null);
    }

    public Task RecordJob(NodeJobEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Upsert(state.State.Jobs, entry, j => j.Build == entry.Build && j.Job == entry.Job && j.Attempt == entry.Attempt, j => j.Finished is not null);
    }

    public Task<List<NodeDeployEntry>> Deploys(int limit) => Task.FromResult(state.State.Deploys.Take(Math.Max(0, limit)).ToList());

    public Task<List<NodeJobEntry>> Jobs(int limit) => Task.FromResult(state.State.Jobs.Take(Math.Max(0, limit)).ToList());

    private async Task Upsert<T>(List<T> list, T entry, Predicate<T> same, Func<T, bool> ended)
    {
        var at = list.FindIndex(same);
        if (at >= 0)
        {
            // One-way calls may pass each other: a start told after the end changes nothing.
            if (ended(list[at]) && !ended(entry)) return;
            list[at] = entry;
        }
        else
        {
            list.Insert(0, entry);
            if (list.Count > NodeHistoryLimits.Kept) list.RemoveRange(NodeHistoryLimits.Kept, list.Count - NodeHistoryLimits.Kept);
        }
        await state.WriteStateAsync();
    }
}

/// <summary>A node's history as stored: newest first.</summary>
public sealed class NodeHistoryState
{
    public List<NodeDeployEntry> Deploys { get; set; } = [];

    public List<NodeJobEntry> Jobs { get; set; } = [];
}
