using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Silo.Endpoints;

/// <summary>
/// Reads a request body as JSON whatever its Content-Type (<c>curl -d</c> sends a form type), with the API's names
/// (camelCase, any case), refusing a field the body does not have: a misspelt or unsupported field is a mistake to
/// report, not a setting to drop.
/// </summary>
public static class RequestJson
{
    private static readonly JsonSerializerOptions s_options = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>The body, or null when it is JSON <c>null</c>; a <see cref="JsonException"/> whose message names the problem otherwise.</summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, s_options, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e) when (e.Message.Contains("could not be mapped", StringComparison.Ordinal) && e.Path is { } path)
        {
            // The serializer's text names a .NET type; the caller knows the field only by its JSON path ("$.commands").
            var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
            throw new JsonException($"'{field}' is not a field of this body", path, e.LineNumber, e.BytePositionInLine, e);
        }
    }
}
