namespace Platform.Silo.Endpoints.Builds;

/// <summary>Maps every build endpoint: repositories, push hooks, builds with their logs, and the queue (docs/builds.md).</summary>
public static class BuildsApi
{
    public static IEndpointRouteBuilder MapBuildsApi(this IEndpointRouteBuilder app)
    {
        app.MapReposEndpoints();
        app.MapHooksEndpoints();
        app.MapBuildsEndpoints();
        return app;
    }
}
