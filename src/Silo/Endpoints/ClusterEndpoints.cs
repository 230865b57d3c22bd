using Platform.Runtime.Hosting;
using Platform.Runtime.Statistics;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints;

/// <summary>
/// GET /v1/cluster: every silo with its state and, for this silo, the key watches open on it and per grain type and
/// method: activations, calls, failures, latency.
/// </summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").MapGet("/cluster", (GrainRuntime runtime, IRuntimeStatistics statistics, PlatformOptions options, IConfiguration configuration,
            Platform.Grains.Keys.KeyWatchHub watches, Platform.Runtime.Storage.StorageMonitor storage, Platform.Silo.Access.AccessControl access) =>
        {
            var urls = configuration["urls"] ?? SiloSetup.DefaultUrls;
            List<SiloView> silos;
            IReadOnlyList<Platform.Runtime.Membership.MembershipChange> history = [];
            string? clusterId = null;
            if (runtime.Cluster is { } cluster)
            {
                clusterId = options.Cluster.ClusterId;
                silos = [.. cluster.Membership.Members
                    .OrderBy(m => m.Silo)
                    .Select(m => new SiloView(m.SiloName, m.Silo.ToString(), m.HttpUrl, m.Status.ToString(), m.StartTime, m.IAmAliveTime,
                        m.Silo == cluster.Self, m.Silo == cluster.Self ? runtime.ActivationCount : null))];
                history = cluster.Membership.History;
            }
            else
            {
                silos = [new SiloView(runtime.Options.SiloName, null, urls, runtime.IsStopping ? "ShuttingDown" : "Active", runtime.StartedAt, DateTimeOffset.UtcNow, true, runtime.ActivationCount)];
            }
            return TypedResults.Ok(new ClusterView(clusterId, silos, options.Storage.ToLowerInvariant(), storage.IsReachable, watches.WatchCount, watches.SeenTimeouts,
                access.Counters(), statistics.GetGrainStatistics(), history));
        });
        return app;
    }

    /// <summary>One silo as the membership table knows it; activations are given for the silo answering.</summary>
    public sealed record SiloView(string Name, string? Address, string? Urls, string Status, DateTimeOffset StartedAt, DateTimeOffset IAmAlive, bool Self, int? Activations);

    /// <summary>
    /// <paramref name="StorageReachable"/>: whether this silo's storage answered at its last use (false: writes fail until it is back);
    /// <paramref name="KeyWatches"/>: etcd and Consul watches waiting on this silo for an event;
    /// <paramref name="KeyWatchSeenTimeouts"/>: write replies sent before this silo's watch hub saw the write (docs/keys.md);
    /// <paramref name="AccessRefused"/>: requests this silo refused since it started (docs/security.md);
    /// <paramref name="History"/>: the membership table's recent joins, status changes, suspicions and deaths as this silo saw them, newest first.
    /// </summary>
    public sealed record ClusterView(string? ClusterId, IReadOnlyList<SiloView> Silos, string Storage, bool StorageReachable, int KeyWatches, long KeyWatchSeenTimeouts,
        Platform.Silo.Access.AccessCounters AccessRefused, IReadOnlyList<GrainTypeStatisticsSnapshot> GrainTypes,
        IReadOnlyList<Platform.Runtime.Membership.MembershipChange> History);
}
