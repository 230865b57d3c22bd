namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>Maps Consul's node endpoints: events, catalog, health, members, TTL reports and check registration (docs/checks.md lists them and where they differ from Consul).</summary>
public static class ConsulNodesApi
{
    public static IEndpointRouteBuilder MapConsulNodesApi(this IEndpointRouteBuilder app)
    {
        app.MapConsulEventEndpoints();
        app.MapConsulCatalogEndpoints();
        app.MapConsulHealthEndpoints();
        app.MapConsulMembersEndpoints();
        app.MapConsulCheckEndpoints();
        app.MapConsulCheckRegistrationEndpoints();
        return app;
    }
}
