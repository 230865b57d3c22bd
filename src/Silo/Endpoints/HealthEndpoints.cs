using Platform.Runtime.Hosting;
using Platform.Runtime.Storage;

namespace Platform.Silo.Endpoints;

/// <summary>
/// /health/live (the process answers) and /health/ready (the runtime serves calls). Both say whether storage is
/// reachable: a silo whose database is out is still ready (reads from active grains work, writes fail clearly).
/// </summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health");
        group.MapGet("/live", (StorageMonitor storage) => TypedResults.Ok(new HealthReport("live", null, storage.IsReachable)));
        group.MapGet("/ready", (GrainRuntime runtime, SiloReadiness readiness, StorageMonitor storage) =>
            readiness.IsReady && !runtime.IsStopping
                ? Results.Ok(new HealthReport("ready", null, storage.IsReachable))
                : Results.Json(new HealthReport("not ready", runtime.IsStopping ? "silo is stopping" : "silo is starting", storage.IsReachable),
                    statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    /// <summary><paramref name="StorageReachable"/>: false while a storage dependency fails (writes then fail with "storage unavailable, retry later").</summary>
    public sealed record HealthReport(string Status, string? Reason, bool StorageReachable);
}

/// <summary>Set once the silo has started and its storage answered.</summary>
public sealed class SiloReadiness
{
    private volatile bool _ready;
    public bool IsReady => _ready;
    public void MarkReady() => _ready = true;
}
