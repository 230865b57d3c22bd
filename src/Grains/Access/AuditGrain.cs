using Platform.Runtime;

namespace Platform.Grains.Access;

/// <summary>Keeps the latest <see cref="Capacity"/> audit entries; older ones leave the log (the silos' log lines keep them too).</summary>
[GrainType("audit")]
internal sealed class AuditGrain([PersistentState("audit")] IPersistentState<AuditState> state) : Grain, IAuditGrain
{
    public const string DefaultKey = "default";

    /// <summary>Entries kept: enough for weeks of deploys and token changes, small enough to write whole each time.</summary>
    public const int Capacity = 1000;

    public async Task Append(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entries = state.State.Entries;
        entries.Add(entry);
        if (entries.Count > Capacity) entries.RemoveRange(0, entries.Count - Capacity);
        await state.WriteStateAsync();
    }

    public Task<List<AuditEntry>> Recent(int count)
    {
        var entries = state.State.Entries;
        var take = Math.Clamp(count, 0, entries.Count);
        return Task.FromResult(entries.GetRange(entries.Count - take, take));
    }
}
