using Platform.Client;

namespace Platform.Cli.Output;

/// <summary><c>serf members</c>' output for a node list: columns (with <c>-detailed</c> the protocol and here the checks) or JSON.</summary>
public static class MembersOutput
{
    /// <summary>Serf's oldest delegate protocol, shown as the range's low end as <c>serf members</c> shows it.</summary>
    public const int MinProtocol = 2;

    /// <summary>Text as <c>serf members [-detailed]</c> prints it (no final newline; an empty list is an empty string).</summary>
    public static string Text(IReadOnlyList<Node> nodes, bool detailed)
    {
        var rows = new List<IReadOnlyList<string>>(nodes.Count);
        foreach (var node in nodes)
        {
            var row = new List<string>(6) { node.Name, Address(node), node.Status, Tags(node.Tags) };
            if (detailed)
            {
                row.Add($"Protocol Version: {node.Protocol}");
                row.Add($"Available Protocol Range: [{MinProtocol}, {Math.Max(node.Protocol, Protocol.AgentProtocol.Version)}]");
                if (node.Checks is { Count: > 0 } checks)
                    row.Add("Checks: " + string.Join(",", checks.Select(c => $"{c.Name}={c.Status}")));
            }
            rows.Add(row);
        }
        return Columns.Format(rows).Trim();
    }

    /// <summary>JSON as <c>serf members -format json</c> prints it: <c>{"members": [...]}</c>, null when there are none.</summary>
    public static string Json(IReadOnlyList<Node> nodes)
    {
        List<object?>? members = nodes.Count == 0 ? null : [.. nodes.Select(Member)];
        return GoJson.Indent(GoObject.Of(("members", members))).Trim();
    }

    private static GoObject Member(Node node) => GoObject.Of(
        ("name", node.Name),
        ("addr", Address(node)),
        ("port", node.Port),
        ("tags", node.Tags ?? new Dictionary<string, string>()),
        ("status", node.Status),
        ("protocol", GoObject.Of(("max", Math.Max(node.Protocol, Protocol.AgentProtocol.Version)), ("min", MinProtocol), ("version", node.Protocol))));

    /// <summary>addr:port as Go's net.TCPAddr prints it (an IPv6 address in brackets).</summary>
    public static string Address(Node node)
        => node.Addr.Contains(':') ? $"[{node.Addr}]:{node.Port}" : $"{node.Addr}:{node.Port}";

    /// <summary>Tags as <c>k=v,k=v</c>, sorted by key (Serf's own order is its map's, which varies).</summary>
    public static string Tags(IReadOnlyDictionary<string, string>? tags)
        => tags is null ? "" : string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
}
