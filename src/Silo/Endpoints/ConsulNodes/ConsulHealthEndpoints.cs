using Platform.Grains.Nodes;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// <c>GET /v1/health/node/:node</c> and <c>GET /v1/health/state/:state</c>: the checks the nodes' agents report, plus
/// Consul's <c>serfHealth</c> for every node, in Consul's HealthCheck JSON.
/// </summary>
public static class ConsulHealthEndpoints
{
    private static readonly string[] s_noTags = [];

    public static IEndpointRouteBuilder MapConsulHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/health/node/{node}", Node);
        app.MapGet("/v1/health/state/{state}", State);
        return app;
    }

    private static async Task<IResult> Node(string node, HttpRequest request, AgentHub hub)
    {
        if (ConsulNodesWait.Parse(request, ConsulNodesWait.DefaultWait, out var index, out var wait) is { } invalid) return invalid;
        var (json, answerIndex) = await ConsulNodesWait.RunAsync(hub, async () =>
        {
            // An unknown node has no checks: Consul answers an empty list, not 404.
            var checks = new List<ConsulHealthCheck>();
            if (await hub.Node(node).Get() is { } detail) AddChecks(detail, checks, state: null);
            return Render(checks);
        }, index, wait, request.HttpContext.RequestAborted);
        return ConsulNodesJson.Answer(request.HttpContext.Response, json, answerIndex);
    }

    private static async Task<IResult> State(string state, HttpRequest request, AgentHub hub)
    {
        if (state is not ("any" or "passing" or "warning" or "critical")) return ConsulNodesJson.Error(400, "Invalid check state");
        if (ConsulNodesWait.Parse(request, ConsulNodesWait.DefaultWait, out var index, out var wait) is { } invalid) return invalid;
        var wanted = state == "any" ? null : state;
        var (json, answerIndex) = await ConsulNodesWait.RunAsync(hub, async () =>
        {
            var members = await hub.Fleet.Members();
            var reads = new List<Task<NodeDetail?>>(members.Count);
            foreach (var entry in members)
                if (SerfHealth.InCatalog(entry.Member.Status)) reads.Add(hub.Node(entry.Member.Name).Get());
            var checks = new List<ConsulHealthCheck>();
            foreach (var detail in await Task.WhenAll(reads))
                if (detail is not null) AddChecks(detail, checks, wanted);
            return Render(checks);
        }, index, wait, request.HttpContext.RequestAborted);
        return ConsulNodesJson.Answer(request.HttpContext.Response, json, answerIndex);
    }

    /// <summary>Adds the node's serfHealth and its agent's checks (those in <paramref name="state"/>, or all).</summary>
    private static void AddChecks(NodeDetail detail, List<ConsulHealthCheck> checks, string? state)
    {
        var member = detail.Member;
        if (!SerfHealth.InCatalog(member.Status)) return;
        var index = ConsulIndex.OfTime(detail.StatusChanged);
        var (serfStatus, serfOutput) = SerfHealth.Of(member.Status);
        if (state is null || state == serfStatus)
            checks.Add(Check(member.Name, SerfHealth.CheckId, SerfHealth.Name, serfStatus, serfOutput, index));
        foreach (var check in detail.Checks)
            if (state is null || state == check.Status)
                checks.Add(Check(member.Name, check.Id, check.Name, check.Status, check.Output, index));
    }

    private static ConsulHealthCheck Check(string node, string id, string name, string status, string output, ulong index)
        => new(node, id, name, status, Notes: "", output, ServiceId: "", ServiceName: "", s_noTags, Type: "", Interval: "", Timeout: "",
            ExposedPort: 0, Definition: [], index, index);

    /// <summary>Consul's order: by node, then by check id without regard to case (its index is lower-cased).</summary>
    private static (byte[] Json, ulong Index) Render(List<ConsulHealthCheck> checks)
    {
        checks.Sort(static (a, b) =>
        {
            var byNode = string.CompareOrdinal(a.Node, b.Node);
            return byNode != 0 ? byNode : string.Compare(a.CheckId, b.CheckId, StringComparison.OrdinalIgnoreCase);
        });
        var bytes = ConsulNodesJson.Encode(checks);
        return (bytes, ConsulIndex.OfAnswer(bytes));
    }
}
