using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>Between the protocol's frames (src/Protocol) and the node grains' domain records.</summary>
internal static class AgentFrameMapping
{
    public static MemberInfo ToInfo(NodeMember m) => new(m.Name, m.Addr, m.Port, m.Tags, m.Status, m.Protocol);

    public static NodeCheck ToCheck(CheckState c) => new(c.Id, c.Name, c.Status, c.Output);

    public static NodeHello ToHello(HelloFrame h)
    {
        var checks = new List<NodeCheck>();
        if (h.Checks is { } given)
            foreach (var c in given) checks.Add(ToCheck(c));
        return new NodeHello(h.Name, h.Addr, h.Port, new Dictionary<string, string>(h.Tags, StringComparer.Ordinal), h.AgentId, h.Protocol, h.LastEventLTime, checks,
            h.ScriptChecks, h.ApiChecks);
    }

    public static ChecksFrame ToFrame(NodeChecksPush p) => new(p.Version, [.. p.Checks.Select(c => new RegisteredCheck(c.Id, c.Definition))]);

    public static UserEventFrame ToFrame(UserEvent e) => new(e.Id, e.Name, e.Payload, e.LTime, e.Coalesce, e.NodeFilter, e.TagFilter);

    /// <summary>Null when the hello can be registered, else what is wrong with it.</summary>
    public static string? Validate(HelloFrame h)
    {
        if (string.IsNullOrEmpty(h.Name)) return "hello.name is empty; expected the node's name such as 'web-1'";
        if (h.Name.Length > 256) return $"hello.name is {h.Name.Length} characters; the limit is 256";
        foreach (var c in h.Name)
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c == '/')
                return $"hello.name '{h.Name}' contains whitespace, a control character or '/'; expected a name such as 'web-1'";
        if (string.IsNullOrEmpty(h.AgentId)) return "hello.agent_id is empty; expected an id that is new for every agent process";
        if (h.Port is < 0 or > 65535) return $"hello.port is {h.Port}; expected a port from 0 to 65535";
        if (h.Tags is null) return "hello.tags is missing; expected an object (possibly empty)";
        if (h.Addr is null) return "hello.addr is missing; expected the node's address";
        return null;
    }
}
