using Platform.Runtime.Hosting;

namespace Platform.Silo.Endpoints;

/// <summary>/health/live (the process answers) and /health/ready (the runtime serves calls).</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health");
        group.MapGet("/live", () => TypedResults.Ok(new HealthReport("live", null)));
        group.MapGet("/ready", (GrainRuntime runtime, SiloReadiness readiness) =>
            readiness.IsReady && !runtime.IsStopping
                ? Results.Ok(new HealthReport("ready", null))
                : Results.Json(new HealthReport("not ready", runtime.IsStopping ? "silo is stopping" : "silo is starting"), statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    public sealed record HealthReport(string Status, string? Reason);
}

/// <summary>Set once the silo has started and its storage answered.</summary>
public sealed class SiloReadiness
{
    private volatile bool _ready;
    public bool IsReady => _ready;
    public void MarkReady() => _ready = true;
}
