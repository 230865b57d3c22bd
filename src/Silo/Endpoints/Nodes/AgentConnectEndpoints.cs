using Platform.Protocol;
using Platform.Silo.Access;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>GET /v1/agent/connect: the agents' WebSocket (subprotocol platform-agent.v1), served by the silo's <see cref="AgentHub"/>.</summary>
public static class AgentConnectEndpoints
{
    public static IEndpointRouteBuilder MapAgentConnectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(AgentProtocol.ConnectPath, Connect);
        return app;
    }

    private static async Task<IResult> Connect(HttpContext context, AgentHub hub)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return NodesJson.Error(400, $"{AgentProtocol.ConnectPath} is the agents' WebSocket: upgrade to a WebSocket with subprotocol '{AgentProtocol.SubProtocol}'");
        var asked = context.WebSockets.WebSocketRequestedProtocols;
        if (!asked.Contains(AgentProtocol.SubProtocol))
            return NodesJson.Error(400, asked.Count == 0
                ? $"the WebSocket asks for no subprotocol; the agent protocol is '{AgentProtocol.SubProtocol}'"
                : $"the WebSocket asks for subprotocol '{string.Join(", ", asked)}'; this silo speaks '{AgentProtocol.SubProtocol}'");
        // Liveness is the protocol's own ping/pong; WebSocket keep-alive frames would only add traffic.
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = AgentProtocol.SubProtocol, KeepAliveInterval = TimeSpan.Zero });
        await hub.RunAsync(socket, AccessMiddleware.ActorOf(context));
        return Results.Empty;
    }
}
