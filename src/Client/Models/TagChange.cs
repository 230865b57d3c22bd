using System.Text.Json.Serialization;

namespace Platform.Client;

/// <summary>The body of <c>PUT /v1/nodes/{name}/tags</c>: tags to set and keys to delete, applied as one member-update.</summary>
public sealed record TagChange(
    [property: JsonPropertyName("set")] IReadOnlyDictionary<string, string> Set,
    [property: JsonPropertyName("delete")] IReadOnlyList<string> Delete);
