using System.Net;
using System.Security.Cryptography;
using System.Text;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary><c>GET /v1/catalog/nodes</c>: the fleet's nodes as Consul's catalog lists them (tags as node meta), with <c>?node-meta=key:value</c>.</summary>
public static class ConsulCatalogEndpoints
{
    public static IEndpointRouteBuilder MapConsulCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/catalog/nodes", Nodes);
        return app;
    }

    private static async Task<IResult> Nodes(HttpRequest request, AgentHub hub)
    {
        if (ConsulNodesWait.Parse(request, ConsulNodesWait.DefaultWait, out var index, out var wait) is { } invalid) return invalid;
        var meta = new List<(string Key, string Value)>();
        foreach (var filter in request.Query["node-meta"])
        {
            var colon = filter?.IndexOf(':') ?? -1;
            if (colon <= 0) return ConsulNodesJson.Error(400, $"node-meta filter \"{filter}\" is not key:value");
            meta.Add((filter![..colon], filter[(colon + 1)..]));
        }

        var (json, answerIndex) = await ConsulNodesWait.RunAsync(hub, async () =>
        {
            var members = await hub.Fleet.Members();
            var nodes = new List<ConsulNode>(members.Count);
            foreach (var entry in members)
            {
                var m = entry.Member;
                if (!SerfHealth.InCatalog(m.Status)) continue;
                var matches = true;
                foreach (var (key, value) in meta)
                    if (!m.Tags.TryGetValue(key, out var tag) || tag != value) matches = false;
                if (!matches) continue;
                var changed = ConsulIndex.OfTime(entry.Changed);
                nodes.Add(new ConsulNode(NodeId(m.Name), m.Name, m.Addr, ConsulNodesJson.Datacenter, TaggedAddresses(m.Addr), m.Tags, changed, changed));
            }
            nodes.Sort(static (a, b) => string.CompareOrdinal(a.Node, b.Node));
            var bytes = ConsulNodesJson.Encode(nodes);
            return (bytes, ConsulIndex.OfAnswer(bytes));
        }, index, wait, request.HttpContext.RequestAborted);
        return ConsulNodesJson.Answer(request.HttpContext.Response, json, answerIndex);
    }

    /// <summary>A node's Consul ID: a UUID made from its name, so it is the same on every silo and every restart.</summary>
    internal static string NodeId(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("platform-node/" + name), hash);
        return new Guid(hash[..16]).ToString("D");
    }

    /// <summary>Consul's tagged addresses: the node's one address as both LAN and WAN, with the family-specific keys.</summary>
    private static Dictionary<string, string> TaggedAddresses(string addr)
    {
        var tagged = new Dictionary<string, string>(StringComparer.Ordinal) { ["lan"] = addr, ["wan"] = addr };
        if (IPAddress.TryParse(addr, out var ip))
        {
            var family = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4";
            tagged["lan_" + family] = addr;
            tagged["wan_" + family] = addr;
        }
        return tagged;
    }
}
