using System.Text.Json.Serialization;
using Platform.Protocol;

namespace Platform.Client;

/// <summary>A node as <c>GET /v1/nodes</c> lists it: Serf's member (name, address, port, tags, status, protocol) its incarnation and the silo holding its agent (health checks come with <see cref="NodeDetail"/>).</summary>
public sealed record Node(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string>? Tags,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("protocol")] int Protocol = AgentProtocol.Version,
    [property: JsonPropertyName("checks")] IReadOnlyList<CheckState>? Checks = null,
    [property: JsonPropertyName("incarnation")] long Incarnation = 0,
    [property: JsonPropertyName("silo")] string? Silo = null);
