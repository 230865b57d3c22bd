using Platform.Silo.Endpoints.Deploys;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>Maps every nodes endpoint: the agents' WebSocket, nodes, events, queries and the monitor.</summary>
public static class NodesApi
{
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        app.MapAgentConnectEndpoints();
        app.MapNodesEndpoints();
        app.MapNodeHistoryEndpoints();
        app.MapEventsEndpoints();
        app.MapQueriesEndpoints();
        app.MapMonitorEndpoints();
        app.MapDeploysEndpoints();
        return app;
    }
}
