namespace Platform.Grains.Keys;

/// <summary>Settings of the keyspace grain and the etcd/Consul facades (section <c>Platform:Keys</c>).</summary>
public sealed class KeyspaceOptions
{
    /// <summary>Events kept for <c>waitIndex</c> watches across all keys (etcd keeps 1,000).</summary>
    public int HistoryCapacity { get; set; } = KeyStore.DefaultHistoryCapacity;

    /// <summary>A snapshot is written after this many journal records, so a restart replays at most about this many.</summary>
    public int SnapshotEvery { get; set; } = 10_000;

    /// <summary>How often TTLs are checked; an expired key is removed at most this late.</summary>
    public TimeSpan ExpiryCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest value a key may hold, in UTF-8 bytes.</summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>At most this many records go into one journal append.</summary>
    public int MaxBatch { get; set; } = 1024;
}

/// <summary>
/// The keyspace's clock: the system clock, except while a journaled write runs or replays, when it is pinned to
/// the write's recorded time so that TTLs come out the same on replay.
/// </summary>
internal sealed class PinnableClock : TimeProvider
{
    private DateTimeOffset? _pinned;

    public override DateTimeOffset GetUtcNow() => _pinned ?? System.GetUtcNow();

    public void Pin(DateTimeOffset at) => _pinned = at;

    public void Unpin() => _pinned = null;
}
