using System.Text.Json;
using Platform.Grains.Nodes;
using Platform.Protocol;
using Platform.Silo.Agents;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// Consul's TTL reports, <c>PUT /v1/agent/check/pass|warn|fail/:check_id?note=</c> and <c>/update/:check_id</c>, made at
/// any silo: <c>?node=</c> names the node; without it the silo's own node (<c>--agent</c>) if it has one, else the one
/// node that has the check id. The report goes, through the fleet, to the hub holding that node's connection and on to its
/// agent as a <c>check</c> frame; the agent's check set holds the TTL.
/// </summary>
public static class ConsulCheckEndpoints
{
    /// <summary>Longest note taken; the agent keeps 4 KiB of it, as Consul does.</summary>
    private const int MaxNoteBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapConsulCheckEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/agent/check/pass/{**checkId}", (string checkId, HttpContext context) => Report(checkId, "passing", context.Request.Query["note"].FirstOrDefault(), context));
        app.MapPut("/v1/agent/check/warn/{**checkId}", (string checkId, HttpContext context) => Report(checkId, "warning", context.Request.Query["note"].FirstOrDefault(), context));
        app.MapPut("/v1/agent/check/fail/{**checkId}", (string checkId, HttpContext context) => Report(checkId, "critical", context.Request.Query["note"].FirstOrDefault(), context));
        app.MapPut("/v1/agent/check/update/{**checkId}", Update);
        return app;
    }

    private static async Task<IResult> Update(string checkId, HttpContext context)
    {
        CheckUpdateBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<CheckUpdateBody>(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            return ConsulNodesJson.Error(400, $"Request decode failed: {e.Message}; expected {{\"Status\": \"passing\", \"Output\": \"...\"}}");
        }
        if (body?.Status is not ("passing" or "warning" or "critical"))
            return ConsulNodesJson.Error(400, $"Invalid check status: '{body?.Status}'");
        return await Report(checkId, body.Status, body.Output, context);
    }

    private static async Task<IResult> Report(string checkId, string status, string? note, HttpContext context)
    {
        note ??= "";
        if (System.Text.Encoding.UTF8.GetByteCount(note) > MaxNoteBytes)
            return ConsulNodesJson.Error(400, $"the note is over {MaxNoteBytes} bytes; the check keeps 4 KiB of it");
        var hub = context.RequestServices.GetRequiredService<AgentHub>();
        var unknown = $"Unknown check ID \"{checkId}\". Ensure that the check ID is passed, not the check name.";

        NodeDetail? owner = null;
        // Consul's agent endpoints address the local agent: the silo's own node when it runs one, else ?node=.
        var named = context.Request.Query["node"].FirstOrDefault() is { Length: > 0 } given ? given : context.RequestServices.GetService<SiloAgent>()?.NodeName;
        if (named is { } node)
        {
            owner = await hub.Node(node).Get();
            if (owner is null) return ConsulNodesJson.Error(404, $"node \"{node}\" is not known");
            if (!owner.Checks.Exists(c => c.Id == checkId)) return ConsulNodesJson.Error(404, $"{unknown} (node \"{node}\" has no such check)");
        }
        else
        {
            // A Consul client reports to its local agent and names no node: find the one node with that check.
            var members = await hub.Fleet.Members();
            var reads = new List<Task<NodeDetail?>>(members.Count);
            foreach (var entry in members)
                if (entry.Member.Status != NodeStatus.Left) reads.Add(hub.Node(entry.Member.Name).Get());
            var owners = new List<NodeDetail>();
            foreach (var detail in await Task.WhenAll(reads))
                if (detail is not null && detail.Checks.Exists(c => c.Id == checkId)) owners.Add(detail);
            if (owners.Count == 0) return ConsulNodesJson.Error(404, unknown);
            if (owners.Count > 1)
                return ConsulNodesJson.Error(409, $"check ID \"{checkId}\" is on nodes {string.Join(", ", owners.Select(o => o.Member.Name).Order(StringComparer.Ordinal))}; name one with ?node=");
            owner = owners[0];
        }

        if (owner.Member.Status is not (NodeStatus.Alive or NodeStatus.Leaving))
            return ConsulNodesJson.Error(409, $"node \"{owner.Member.Name}\" is {owner.Member.Status}: its agent is not connected to take the report");
        var check = owner.Checks.Find(c => c.Id == checkId)!;
        var report = new NodeCheck(checkId, check.Name, status, note);
        var name = owner.Member.Name;
        // The connection is usually on this silo (an agent's local silo); otherwise the fleet knows the hub holding it.
        var sent = owner.Hub == hub.HubKey ? await hub.OnCheckReport(name, report) : await hub.Fleet.ReportCheck(owner.Hub, name, report);
        if (!sent)
            return ConsulNodesJson.Error(409, $"node \"{name}\" has no agent connected to take the report; retry once it reconnects");
        return TypedResults.Ok();
    }

    private sealed record CheckUpdateBody(string? Status, string? Output);
}
