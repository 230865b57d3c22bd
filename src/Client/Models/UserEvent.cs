using System.Text.Json.Serialization;

namespace Platform.Client;

/// <summary>A user event as the silo accepted it (<c>POST /v1/events/{name}</c>): its id and Lamport time.</summary>
public sealed record FiredEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("lTime")] ulong LTime);

/// <summary>A user event of the fleet's history (<c>GET /v1/events</c>).</summary>
public sealed record UserEvent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("payload")] byte[]? Payload,
    [property: JsonPropertyName("lTime")] ulong LTime,
    [property: JsonPropertyName("coalesce")] bool Coalesce = true,
    [property: JsonPropertyName("at")] DateTimeOffset? At = null);
