using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>The JSON of Consul's event, catalog, health and member endpoints: PascalCase as Consul writes it, errors as plain text.</summary>
internal static class ConsulNodesJson
{
    /// <summary>The one datacenter a Platform fleet is, named as Consul names its default.</summary>
    public const string Datacenter = "dc1";

    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.General);

    /// <summary>The answer's bytes, encoded once: written as the body and hashed for the index when the endpoint has no index of its own.</summary>
    public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, s_options);

    /// <summary>Writes <paramref name="json"/> with <c>X-Consul-Index</c>.</summary>
    public static IResult Answer(HttpResponse response, byte[] json, ulong index)
    {
        response.Headers["X-Consul-Index"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Bytes(json, "application/json");
    }

    /// <summary>Consul answers a bad request with its message as plain text.</summary>
    public static IResult Error(int status, string message) => TypedResults.Text(message, "text/plain; charset=utf-8", statusCode: status);
}

/// <summary>A user event as Consul's <c>/v1/event</c> endpoints write it; the payload is base64, null when empty.</summary>
internal sealed record ConsulEvent(
    [property: JsonPropertyName("ID")] string Id,
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("Payload")] byte[]? Payload,
    [property: JsonPropertyName("NodeFilter")] string NodeFilter,
    [property: JsonPropertyName("ServiceFilter")] string ServiceFilter,
    [property: JsonPropertyName("TagFilter")] string TagFilter,
    [property: JsonPropertyName("Version")] int Version,
    [property: JsonPropertyName("LTime")] ulong LTime);

/// <summary>A node as <c>/v1/catalog/nodes</c> writes it.</summary>
internal sealed record ConsulNode(
    [property: JsonPropertyName("ID")] string Id,
    [property: JsonPropertyName("Node")] string Node,
    [property: JsonPropertyName("Address")] string Address,
    [property: JsonPropertyName("Datacenter")] string Datacenter,
    [property: JsonPropertyName("TaggedAddresses")] Dictionary<string, string> TaggedAddresses,
    [property: JsonPropertyName("Meta")] IReadOnlyDictionary<string, string> Meta,
    [property: JsonPropertyName("CreateIndex")] ulong CreateIndex,
    [property: JsonPropertyName("ModifyIndex")] ulong ModifyIndex);

/// <summary>A check as <c>/v1/health</c> writes it (Consul's HealthCheck); node checks have no service.</summary>
internal sealed record ConsulHealthCheck(
    [property: JsonPropertyName("Node")] string Node,
    [property: JsonPropertyName("CheckID")] string CheckId,
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("Status")] string Status,
    [property: JsonPropertyName("Notes")] string Notes,
    [property: JsonPropertyName("Output")] string Output,
    [property: JsonPropertyName("ServiceID")] string ServiceId,
    [property: JsonPropertyName("ServiceName")] string ServiceName,
    [property: JsonPropertyName("ServiceTags")] string[] ServiceTags,
    [property: JsonPropertyName("Type")] string Type,
    [property: JsonPropertyName("Interval")] string Interval,
    [property: JsonPropertyName("Timeout")] string Timeout,
    [property: JsonPropertyName("ExposedPort")] int ExposedPort,
    [property: JsonPropertyName("Definition")] Dictionary<string, string> Definition,
    [property: JsonPropertyName("CreateIndex")] ulong CreateIndex,
    [property: JsonPropertyName("ModifyIndex")] ulong ModifyIndex);

/// <summary>A member as <c>/v1/agent/members</c> writes it: Serf's member with its status as a number.</summary>
internal sealed record ConsulMember(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("Addr")] string Addr,
    [property: JsonPropertyName("Port")] int Port,
    [property: JsonPropertyName("Tags")] IReadOnlyDictionary<string, string> Tags,
    [property: JsonPropertyName("Status")] int Status,
    [property: JsonPropertyName("ProtocolMin")] int ProtocolMin,
    [property: JsonPropertyName("ProtocolMax")] int ProtocolMax,
    [property: JsonPropertyName("ProtocolCur")] int ProtocolCur,
    [property: JsonPropertyName("DelegateMin")] int DelegateMin,
    [property: JsonPropertyName("DelegateMax")] int DelegateMax,
    [property: JsonPropertyName("DelegateCur")] int DelegateCur);
