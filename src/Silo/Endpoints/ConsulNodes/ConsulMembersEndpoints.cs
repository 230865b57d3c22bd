using Platform.Grains.Nodes;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary><c>GET /v1/agent/members</c>: every member the fleet knows, failed and left ones until they are reaped, as Consul lists them.</summary>
public static class ConsulMembersEndpoints
{
    // Memberlist's protocol range and the version Consul speaks; Serf's (the delegate's) range is Serf's own.
    private const int MemberlistMin = 1, MemberlistMax = 5, MemberlistCurrent = 2;
    private const int SerfMin = 2, SerfMax = 5;

    public static IEndpointRouteBuilder MapConsulMembersEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/agent/members", Members);
        return app;
    }

    private static async Task<IResult> Members(HttpRequest request, AgentHub hub)
    {
        if (ConsulNodesWait.Parse(request, ConsulNodesWait.DefaultWait, out var index, out var wait) is { } invalid) return invalid;
        var (json, answerIndex) = await ConsulNodesWait.RunAsync(hub, async () =>
        {
            var members = await hub.Fleet.Members();
            var list = new List<ConsulMember>(members.Count);
            foreach (var entry in members)
            {
                var m = entry.Member;
                list.Add(new ConsulMember(m.Name, m.Addr, m.Port, m.Tags, StatusNumber(m.Status),
                    MemberlistMin, MemberlistMax, MemberlistCurrent, SerfMin, SerfMax, m.Protocol));
            }
            list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var bytes = ConsulNodesJson.Encode(list);
            return (bytes, ConsulIndex.OfAnswer(bytes));
        }, index, wait, request.HttpContext.RequestAborted);
        return ConsulNodesJson.Answer(request.HttpContext.Response, json, answerIndex);
    }

    /// <summary>Serf's member status numbers: alive 1, leaving 2, left 3, failed 4.</summary>
    internal static int StatusNumber(string status) => status switch
    {
        NodeStatus.Alive => 1,
        NodeStatus.Leaving => 2,
        NodeStatus.Left => 3,
        NodeStatus.Failed => 4,
        _ => 0,
    };
}
