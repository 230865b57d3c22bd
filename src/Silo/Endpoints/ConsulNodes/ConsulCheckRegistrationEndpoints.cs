using Platform.Grains.Nodes;
using Platform.Silo.Agents;
using Platform.Silo.Endpoints.Nodes;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// Consul's <c>PUT /v1/agent/check/register</c> and <c>PUT /v1/agent/check/deregister/:check_id</c>. Consul's address the
/// agent the client talks to; here <c>?node=</c> names the node (Platform's extension), else the silo's own node
/// (<c>--agent</c>). The check is stored in the node grain and run by the node's agent (docs/checks.md).
/// </summary>
public static class ConsulCheckRegistrationEndpoints
{
    public static IEndpointRouteBuilder MapConsulCheckRegistrationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/agent/check/register", Register);
        app.MapPut("/v1/agent/check/deregister/{**checkId}", Deregister);
        return app;
    }

    private static async Task<IResult> Register(HttpContext context, AgentHub hub)
    {
        var (node, refused) = await NodeOf(context, hub);
        if (refused is not null) return refused;
        var (check, error) = await CheckRegistration.ReadAsync(context.Request);
        if (error is not null) return ConsulNodesJson.Error(400, $"Request decode failed: {error}");
        return Answer(await CheckRegistration.RegisterAsync(context, node!, check!));
    }

    private static async Task<IResult> Deregister(string checkId, HttpContext context, AgentHub hub)
    {
        var (node, refused) = await NodeOf(context, hub);
        if (refused is not null) return refused;
        return Answer(await CheckRegistration.DeregisterAsync(context, node!, checkId));
    }

    /// <summary>The node addressed: <c>?node=</c>, else the silo's own; a 400 naming the parameter when there is neither or it is not known.</summary>
    private static async Task<(string? Node, IResult? Refused)> NodeOf(HttpContext context, AgentHub hub)
    {
        var node = context.Request.Query["node"].FirstOrDefault() is { Length: > 0 } given ? given : context.RequestServices.GetService<SiloAgent>()?.NodeName;
        if (node is null)
            return (null, ConsulNodesJson.Error(400, "no node given: this silo runs no agent of its own (--agent); name the node with ?node=NAME"));
        if (await hub.Node(node).Get() is null)
            return (null, ConsulNodesJson.Error(400, $"?node: node \"{node}\" is not known; expected the name of a node of the fleet"));
        return (node, null);
    }

    private static IResult Answer(NodeResult result) => result.ErrorKind switch
    {
        NodeErrorKind.None => TypedResults.Ok(),
        NodeErrorKind.NotFound => ConsulNodesJson.Error(404, result.Error!),
        NodeErrorKind.Conflict => ConsulNodesJson.Error(409, result.Error!),
        NodeErrorKind.Forbidden => ConsulNodesJson.Error(403, result.Error!),
        _ => ConsulNodesJson.Error(400, result.Error!),
    };
}
