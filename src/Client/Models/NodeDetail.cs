using System.Text.Json.Serialization;
using Platform.Protocol;

namespace Platform.Client;

/// <summary>One node as <c>GET /v1/nodes/{name}</c> answers: its member fields and its durable state.</summary>
public sealed record NodeDetail(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("addr")] string Addr,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string>? Tags,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("protocol")] int Protocol = AgentProtocol.Version,
    [property: JsonPropertyName("incarnation")] long Incarnation = 0,
    [property: JsonPropertyName("joined")] DateTimeOffset? Joined = null,
    [property: JsonPropertyName("lastSeen")] DateTimeOffset? LastSeen = null,
    [property: JsonPropertyName("checks")] IReadOnlyList<CheckState>? Checks = null,
    [property: JsonPropertyName("lastEventLTime")] ulong LastEventLTime = 0,
    [property: JsonPropertyName("statusChanged")] DateTimeOffset? StatusChanged = null,
    [property: JsonPropertyName("silo")] string? Silo = null);
