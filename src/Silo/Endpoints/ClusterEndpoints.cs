using Platform.Runtime.Hosting;
using Platform.Runtime.Statistics;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints;

/// <summary>
/// GET /v1/cluster: every silo with its state and, for this silo, the key watches open on it and per grain type and
/// method: activations, calls, failures, latency; <c>?follow=true</c> streams it (docs/runtime.md).
/// </summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").MapGet("/cluster", async (HttpContext context, GrainRuntime runtime, IRuntimeStatistics statistics, PlatformOptions options, IConfiguration configuration,
            Platform.Grains.Keys.KeyWatchHub watches, Platform.Runtime.Storage.StorageMonitor storage, Platform.Silo.Access.AccessControl access) =>
        {
            ClusterView Snapshot() => Take(runtime, statistics, options, configuration, watches, storage, access);
            var follow = context.Request.Query["follow"].ToString();
            if (follow.Length == 0 || follow == "false") return TypedResults.Ok(Snapshot());
            if (follow != "true") return TypedResults.Json(new { error = $"follow '{follow}' is not true or false" }, statusCode: 400);
            await FollowAsync(context, runtime, Snapshot);
            return Results.Empty;
        });
        return app;
    }

    private static readonly byte[] Newline = "\n"u8.ToArray();

    /// <summary>How often a followed cluster is sent again (its statistics are counters: a chart needs samples).</summary>
    public static readonly TimeSpan FollowPeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <c>?follow=true</c>: NDJSON, the cluster now, then again every <see cref="FollowPeriod"/> and at once when this
    /// silo's membership view changes (a join, a suspicion, a death), until the client goes.
    /// </summary>
    private static async Task FollowAsync(HttpContext context, GrainRuntime runtime, Func<ClusterView> snapshot)
    {
        var aborted = context.RequestAborted;
        var changed = new SemaphoreSlim(0, 1);
        void OnView(Platform.Runtime.Membership.ClusterView _)
        {
            // A view that changes as the stream ends may come after the semaphore is gone: nothing to wake then.
            try { changed.Release(); }
            catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException) { /* one wake is pending already, or the stream ended */ }
        }
        var membership = runtime.Cluster?.Membership;
        if (membership is not null) membership.ViewChanged += OnView;
        try
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.StartAsync(aborted);
            while (!aborted.IsCancellationRequested)
            {
                await context.Response.Body.WriteAsync(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(snapshot(), System.Text.Json.JsonSerializerOptions.Web), aborted);
                await context.Response.Body.WriteAsync(Newline, aborted);
                await context.Response.Body.FlushAsync(aborted);
                await changed.WaitAsync(FollowPeriod, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
        finally
        {
            if (membership is not null) membership.ViewChanged -= OnView;
            changed.Dispose();
        }
    }

    private static ClusterView Take(GrainRuntime runtime, IRuntimeStatistics statistics, PlatformOptions options, IConfiguration configuration,
        Platform.Grains.Keys.KeyWatchHub watches, Platform.Runtime.Storage.StorageMonitor storage, Platform.Silo.Access.AccessControl access)
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
        return new ClusterView(clusterId, silos, options.Storage.ToLowerInvariant(), storage.IsReachable, watches.WatchCount, watches.SeenTimeouts,
            access.Counters(), statistics.GetGrainStatistics(), history);
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
