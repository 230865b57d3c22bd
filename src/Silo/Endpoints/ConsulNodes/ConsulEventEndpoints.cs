using Platform.Grains.Nodes;
using Platform.Protocol;
using Platform.Silo.Agents;
using Platform.Silo.Endpoints.Nodes;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// <c>PUT /v1/event/fire/:name</c> and <c>GET /v1/event/list</c>: Consul's user events over the fleet's (Serf's size
/// limit and reserved names apply). The list is the fleet's kept history, oldest first, with Consul's blocking rule.
/// </summary>
public static class ConsulEventEndpoints
{
    public static IEndpointRouteBuilder MapConsulEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/event/fire", (HttpRequest request, AgentHub hub) => Fire("", request, hub));
        app.MapPut("/v1/event/fire/{**name}", Fire);
        app.MapGet("/v1/event/list", List);
        return app;
    }

    private static async Task<IResult> Fire(string name, HttpRequest request, AgentHub hub)
    {
        if (name.Length == 0) return ConsulNodesJson.Error(400, "Missing name");
        if (request.Query["service"].FirstOrDefault() is { Length: > 0 } service)
            return ConsulNodesJson.Error(400, $"service filter \"{service}\" cannot match: Platform has nodes, not services; filter by node or tag");
        var nodeFilter = request.Query["node"].FirstOrDefault() is { Length: > 0 } node ? node : null;
        var tagFilter = request.Query["tag"].FirstOrDefault() is { Length: > 0 } tag ? tag : null;
        if (!UserEventFilter.TryCreate(nodeFilter, tagFilter, out _, out var badFilter)) return ConsulNodesJson.Error(400, badFilter!);

        var limit = hub.Options.UserEventSizeLimit;
        var payload = await NodesBody.ReadAsync(request, limit + 1);
        if (UserEvents.Validate(name, payload, limit) is { } refused) return ConsulNodesJson.Error(400, refused);
        // Consul's events never coalesce.
        var fired = await hub.Fleet.FireEvent(name, payload, coalesce: false, nodeFilter, tagFilter);
        var json = ConsulNodesJson.Encode(ToConsul(fired));
        return TypedResults.Bytes(json, "application/json");
    }

    private static async Task<IResult> List(HttpRequest request, AgentHub hub)
    {
        if (ConsulNodesWait.Parse(request, ConsulNodesWait.MaxWait, out var index, out var wait) is { } invalid) return invalid;
        var name = request.Query["name"].FirstOrDefault() ?? "";
        var (json, answerIndex) = await ConsulNodesWait.RunAsync(hub, async () =>
        {
            var kept = await hub.Fleet.UserEvents(0);
            var events = new List<ConsulEvent>(kept.Count);
            foreach (var e in kept)
                if (name.Length == 0 || e.Name == name) events.Add(ToConsul(e));
            return (ConsulNodesJson.Encode(events), ConsulIndex.OfEvents(events.Count == 0 ? null : events[^1].Id));
        }, index, wait, request.HttpContext.RequestAborted);
        return ConsulNodesJson.Answer(request.HttpContext.Response, json, answerIndex);
    }

    /// <summary>The fleet's event id is a GUID; Consul writes it with dashes.</summary>
    private static ConsulEvent ToConsul(UserEvent e)
        => new(Guid.TryParse(e.Id, out var guid) ? guid.ToString("D") : e.Id, e.Name, e.Payload.Length == 0 ? null : e.Payload, e.NodeFilter ?? "", "", e.TagFilter ?? "", 1, e.LTime);
}
