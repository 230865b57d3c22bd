using System.Globalization;

namespace Platform.Runtime.Membership;

/// <summary>
/// The membership table in memory, for in-process clusters: every silo of the cluster shares one instance.
/// Same compare-and-swap rules as the durable providers; <see cref="ForCluster"/> gives another cluster's table on the same store.
/// </summary>
public sealed class MemoryMembershipTable : IMembershipTable
{
    // Process-wide so that an ETag is never handed out twice, even across stores.
    private static long s_lastETag;

    private readonly Store _store;

    /// <summary>A new, empty store holding the table of <paramref name="clusterId"/>.</summary>
    public MemoryMembershipTable(string clusterId = "default")
        : this(new Store(), clusterId)
    {
    }

    private MemoryMembershipTable(Store store, string clusterId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        _store = store;
        ClusterId = clusterId;
    }

    /// <summary>The cluster whose rows this instance reads and writes.</summary>
    public string ClusterId { get; }

    /// <summary>The table of another cluster in the same store (clusters never see each other's rows).</summary>
    public MemoryMembershipTable ForCluster(string clusterId) => new(_store, clusterId);

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        lock (_store)
        {
            _ = Cluster();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_store)
        {
            var cluster = Cluster();
            var rows = cluster.Rows.Values.OrderBy(r => r.Entry.Silo).ToArray();
            return Task.FromResult(new MembershipTableSnapshot(rows, cluster.Version));
        }
    }

    /// <inheritdoc />
    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion newVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(newVersion);
        lock (_store)
        {
            var cluster = Cluster();
            if (!cluster.Accepts(newVersion) || cluster.Rows.ContainsKey(entry.Silo))
            {
                return Task.FromResult(false);
            }

            cluster.Rows[entry.Silo] = (entry, NextETag());
            cluster.Version = new TableVersion(newVersion.Version, NextETag());
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion newVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(newVersion);
        lock (_store)
        {
            var cluster = Cluster();
            if (!cluster.Accepts(newVersion) || !cluster.Rows.TryGetValue(entry.Silo, out var row) || row.ETag != etag)
            {
                return Task.FromResult(false);
            }

            cluster.Rows[entry.Silo] = (entry, NextETag());
            cluster.Version = new TableVersion(newVersion.Version, NextETag());
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset iAmAliveTime, CancellationToken cancellationToken = default)
    {
        lock (_store)
        {
            var cluster = Cluster();
            if (!cluster.Rows.TryGetValue(silo, out var row))
            {
                throw new InvalidOperationException($"Membership table of cluster '{ClusterId}' has no row for silo {silo}; it must insert its row before writing I-am-alive.");
            }

            // The row keeps its ETag: a heartbeat must not make a concurrent suspicion or status write fail.
            cluster.Rows[silo] = (row.Entry with { IAmAliveTime = iAmAliveTime }, row.ETag);
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        lock (_store)
        {
            var cluster = Cluster();
            var defunct = cluster.Rows.Values
                .Where(r => r.Entry.Status == SiloStatus.Dead && r.Entry.IAmAliveTime < olderThan)
                .Select(r => r.Entry.Silo)
                .ToArray();
            foreach (var silo in defunct)
            {
                cluster.Rows.Remove(silo);
            }

            return Task.FromResult(defunct.Length);
        }
    }

    private static string NextETag() => Interlocked.Increment(ref s_lastETag).ToString(CultureInfo.InvariantCulture);

    // Called under the store's lock.
    private ClusterRows Cluster()
    {
        if (!_store.Clusters.TryGetValue(ClusterId, out var cluster))
        {
            cluster = new ClusterRows { Version = new TableVersion(0, NextETag()) };
            _store.Clusters.Add(ClusterId, cluster);
        }

        return cluster;
    }

    /// <summary>Every cluster's rows; the instance itself is the lock.</summary>
    private sealed class Store
    {
        public Dictionary<string, ClusterRows> Clusters { get; } = new(StringComparer.Ordinal);
    }

    private sealed class ClusterRows
    {
        public required TableVersion Version { get; set; }

        public Dictionary<SiloAddress, (MembershipEntry Entry, string ETag)> Rows { get; } = [];

        /// <summary>The version CAS: the proposal was made from the current version and moves it by exactly one.</summary>
        public bool Accepts(TableVersion proposed) => proposed.ETag == Version.ETag && proposed.Version == Version.Version + 1;
    }
}
