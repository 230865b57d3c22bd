using Platform.Runtime.Hosting;
using Platform.Runtime.Statistics;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints;

/// <summary>GET /v1/cluster: the silos and, per grain type and method, activations, calls, failures and latency.</summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").MapGet("/cluster", (GrainRuntime runtime, IRuntimeStatistics statistics, PlatformOptions options, IConfiguration configuration) =>
        {
            var silo = new SiloView(
                runtime.Options.SiloName,
                configuration["urls"] ?? SiloSetup.DefaultUrls,
                runtime.IsStopping ? "ShuttingDown" : "Active",
                runtime.StartedAt,
                runtime.ActivationCount);
            return TypedResults.Ok(new ClusterView([silo], options.Storage.ToLowerInvariant(), statistics.GetGrainStatistics()));
        });
        return app;
    }

    public sealed record SiloView(string Name, string Urls, string Status, DateTimeOffset StartedAt, int Activations);

    public sealed record ClusterView(IReadOnlyList<SiloView> Silos, string Storage, IReadOnlyList<GrainTypeStatisticsSnapshot> GrainTypes);
}
