using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Platform.Agent.Deploy;

/// <summary>A deploy trigger read from standard input: the manifest URL and, when known, the event's name, ID and Lamport time.</summary>
public sealed record StretchEvent(string ManifestUrl, string? Name, string? Id, ulong? LTime, string Form)
{
    /// <summary>Consul's form: a JSON array of events (from <c>consul watch -type event</c>).</summary>
    public const string ConsulForm = "consul";

    /// <summary>One plain line (a Serf user event's payload, or <c>echo URL | …</c>).</summary>
    public const string LineForm = "line";

    /// <summary>
    /// Reads the trigger as Stretcher does: a Consul event list when <c>CONSUL_INDEX</c> is set or the input starts with
    /// <c>[</c> (the last event's base64 <c>Payload</c> is the URL), otherwise the first line. A Serf handler's
    /// <c>SERF_USER_EVENT</c> and <c>SERF_USER_LTIME</c> name the event.
    /// </summary>
    public static StretchEvent Parse(string input, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(environment("CONSUL_INDEX")) || input.StartsWith('[')) return ParseConsul(input);
        var end = input.IndexOf('\n', StringComparison.Ordinal);
        var line = (end < 0 ? input : input[..end]).TrimEnd('\r').Trim();
        if (line.Length == 0) throw new DeployException("standard input: expected a manifest URL (one line, or a Consul event JSON array), got nothing");
        ulong? ltime = null;
        if (environment("SERF_USER_LTIME") is { Length: > 0 } text)
        {
            if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                throw new DeployException($"SERF_USER_LTIME: expected a Lamport time (a whole number), got '{text}'");
            ltime = value;
        }
        var name = environment("SERF_USER_EVENT") is { Length: > 0 } n ? n : null;
        return new StretchEvent(line, name, null, ltime, LineForm);
    }

    private static StretchEvent ParseConsul(string input)
    {
        JsonElement events;
        try
        {
            using var document = JsonDocument.Parse(input);
            events = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DeployException($"standard input: expected a Consul event JSON array: {e.Message}", e);
        }
        if (events.ValueKind != JsonValueKind.Array)
            throw new DeployException($"standard input: expected a Consul event JSON array, got a JSON {events.ValueKind.ToString().ToLowerInvariant()}");
        if (events.GetArrayLength() == 0) throw new DeployException("standard input: No Consul events found (an empty JSON array)");
        var last = events[events.GetArrayLength() - 1];
        if (last.ValueKind != JsonValueKind.Object) throw new DeployException("standard input: the last Consul event is not a JSON object");
        var id = String(last, "ID");
        var name = String(last, "Name");
        ulong? ltime = last.TryGetProperty("LTime", out var lt) && lt.ValueKind == JsonValueKind.Number && lt.TryGetUInt64(out var v) ? v : null;
        var payload = String(last, "Payload");
        string url;
        try
        {
            url = Encoding.UTF8.GetString(Convert.FromBase64String(payload ?? "")).Trim();
        }
        catch (FormatException e)
        {
            throw new DeployException($"standard input: Consul event {id}: Payload is not base64: {e.Message}", e);
        }
        if (url.Length == 0) throw new DeployException($"standard input: Consul event {id} has an empty Payload; expected the manifest URL");
        return new StretchEvent(url, name, id, ltime, ConsulForm);
    }

    private static string? String(JsonElement e, string name)
        => e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
}
