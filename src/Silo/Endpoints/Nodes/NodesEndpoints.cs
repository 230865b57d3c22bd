using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Grains.Nodes;
using Platform.Runtime;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>/v1/nodes: listing with Serf's filters, one node, its tags, its registered checks, leave and force-leave (docs/nodes.md).</summary>
public static class NodesEndpoints
{
    public static IEndpointRouteBuilder MapNodesEndpoints(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/v1/nodes");
        nodes.MapGet("", List);
        nodes.MapGet("/{name}", Get);
        nodes.MapPut("/{name}/tags", PutTags);
        nodes.MapPost("/{name}/leave", Leave);
        nodes.MapPost("/{name}/force-leave", ForceLeave);
        nodes.MapPut("/{name}/checks", PutCheck);
        nodes.MapDelete("/{name}/checks/{**id}", DeleteCheck);
        return app;
    }

    private static async Task<IResult> List(HttpRequest request, AgentHub hub)
    {
        var status = request.Query["status"].ToString();
        if (status.Length != 0 && !NodeStatus.IsKnown(status))
            return NodesJson.Error(400, $"status '{status}' is not a node status; expected alive, leaving, left or failed");
        Regex? name = null;
        var nameExpr = request.Query["name"].ToString();
        if (nameExpr.Length != 0 && Compile("name", nameExpr, out name) is { } badName) return badName;
        var tags = new List<(string Tag, Regex Expr)>();
        foreach (var filter in request.Query["tag"])
        {
            var eq = filter?.IndexOf('=') ?? -1;
            if (eq <= 0) return NodesJson.Error(400, $"tag filter '{filter}' is not key=regexp");
            if (Compile($"tag '{filter![..eq]}'", filter[(eq + 1)..], out var expr) is { } badTag) return badTag;
            tags.Add((filter[..eq], expr!));
        }
        var members = await hub.Fleet.Members();
        var views = new List<NodeView>(members.Count);
        foreach (var entry in members)
        {
            var m = entry.Member;
            if (status.Length != 0 && m.Status != status) continue;
            if (name is not null && !name.IsMatch(m.Name)) continue;
            var match = true;
            foreach (var (tag, expr) in tags)
                if (!expr.IsMatch(m.Tags.TryGetValue(tag, out var v) ? v : "")) match = false;
            if (match) views.Add(NodesJson.View(entry));
        }
        views.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return TypedResults.Ok(views);
    }

    /// <summary>As <c>serf members</c>: a filter must match the whole value.</summary>
    private static IResult? Compile(string what, string expr, out Regex? regex)
    {
        try
        {
            _ = new Regex(expr, RegexOptions.CultureInvariant);
            regex = new Regex($"^(?:{expr})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            return null;
        }
        catch (ArgumentException e)
        {
            regex = null;
            return NodesJson.Error(400, $"{what} filter '{expr}' is not a valid regular expression: {e.Message}");
        }
    }

    private static async Task<IResult> Get(string name, IGrainFactory grains)
    {
        var node = await grains.GetGrain<INodeGrain>(name).Get();
        return node is null ? NodesJson.Error(404, $"node '{name}' is not known") : TypedResults.Ok(NodesJson.Detail(node));
    }

    private static async Task<IResult> PutTags(string name, HttpRequest request, IGrainFactory grains)
    {
        TagsUpdate? update;
        try
        {
            update = await RequestJson.ReadAsync<TagsUpdate>(request);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return NodesJson.Error(400, $"the body is not a tags update: {e.Message}; expected {{\"set\":{{\"k\":\"v\"}},\"delete\":[\"k\"]}}");
        }
        if (update is null || (update.Set is null && update.Delete is null))
            return NodesJson.Error(400, "the body is empty; expected {\"set\":{\"k\":\"v\"},\"delete\":[\"k\"]}");
        var result = await grains.GetGrain<INodeGrain>(name).UpdateTags(update.Set ?? [], update.Delete ?? [], fromAgent: false);
        return NodesJson.From(result);
    }

    private static async Task<IResult> Leave(string name, IGrainFactory grains, AgentHub hub)
    {
        var node = await grains.GetGrain<INodeGrain>(name).Get();
        if (node is null) return NodesJson.Error(404, $"node '{name}' is not known");
        if (node.Member.Status != NodeStatus.Alive)
            return NodesJson.Error(409, $"node '{name}' is {node.Member.Status}; only an alive node's agent can be asked to leave");
        await hub.Fleet.RequestLeave(name);
        return TypedResults.Accepted($"/v1/nodes/{name}", NodesJson.Detail(node));
    }

    /// <summary>Registers a check (Consul's definition in the body) on the node: <c>PUT /v1/nodes/{name}/checks</c>, Platform's spelling of <c>/v1/agent/check/register</c>.</summary>
    private static async Task<IResult> PutCheck(string name, HttpContext context)
    {
        var (check, error) = await CheckRegistration.ReadAsync(context.Request);
        if (error is not null) return NodesJson.Error(400, error);
        return NodesJson.From(await CheckRegistration.RegisterAsync(context, name, check!));
    }

    private static async Task<IResult> DeleteCheck(string name, string id, HttpContext context)
        => NodesJson.From(await CheckRegistration.DeregisterAsync(context, name, id));

    private static async Task<IResult> ForceLeave(string name, IGrainFactory grains)
        => NodesJson.From(await grains.GetGrain<INodeGrain>(name).ForceLeave());
}
