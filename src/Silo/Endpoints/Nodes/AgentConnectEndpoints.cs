using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Platform.Protocol;
using Platform.Silo.Access;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>GET /v1/agent/connect: the agents' WebSocket (subprotocol platform-agent.v1), served by the silo's <see cref="AgentHub"/>.</summary>
public static class AgentConnectEndpoints
{
    /// <summary>RFC 6455's key suffix for <c>Sec-WebSocket-Accept</c>.</summary>
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

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
        var (socket, stream) = await AcceptAsync(context);
        using (socket) await hub.RunAsync(socket, AccessMiddleware.ActorOf(context), stream);
        return Results.Empty;
    }

    /// <summary>
    /// Accepts the WebSocket. An HTTP/1.1 upgrade is answered here, so the WebSocket runs over an <see cref="AgentStream"/>
    /// whose writes can go straight to the socket (docs/nodes.md, "Sending"); anything else (HTTP/2) as ASP.NET Core
    /// accepts it. The request was checked as a WebSocket request (method, headers, key) before.
    /// </summary>
    private static async Task<(WebSocket Socket, AgentStream? Stream)> AcceptAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
        {
            // Liveness is the protocol's own ping/pong; WebSocket keep-alive frames would only add traffic.
            return (await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = AgentProtocol.SubProtocol, KeepAliveInterval = TimeSpan.Zero }), null);
        }
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(context.Request.Headers.SecWebSocketKey.ToString().Trim() + AcceptGuid)));
        headers.SecWebSocketProtocol = AgentProtocol.SubProtocol;
        var opaque = await upgrade.UpgradeAsync();
        // Under TLS the socket carries ciphertext: writes stay with Kestrel.
        var tls = context.Features.Get<ITlsConnectionFeature>() is not null;
        var stream = new AgentStream(opaque, tls ? null : context.Features.Get<IConnectionSocketFeature>()?.Socket, context.Abort);
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, SubProtocol = AgentProtocol.SubProtocol, KeepAliveInterval = TimeSpan.Zero });
        stream.Owner = socket;
        return (socket, stream);
    }
}
