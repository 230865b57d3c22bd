using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>POST /v1/events/{name}: fires a user event. Sent to another silo only if it never reached one, so it fires once.</summary>
    public async Task<FiredEvent> FireEventAsync(string name, ReadOnlyMemory<byte> payload, bool coalesce = true, CancellationToken cancellationToken = default)
    {
        var path = $"/v1/events/{Escape(name)}" + (coalesce ? "" : "?coalesce=false");
        using var doc = await SendForJsonAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = Payload(payload) }, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize<FiredEvent>(s_json) ?? throw new JsonException($"POST {path} answered the JSON null");
    }

    /// <summary>GET /v1/events: the event history, optionally of one name and after a Lamport time.</summary>
    public async Task<IReadOnlyList<UserEvent>> ListEventsAsync(string? name = null, ulong? after = null, CancellationToken cancellationToken = default)
    {
        var path = "/v1/events";
        var query = new List<string>();
        if (!string.IsNullOrEmpty(name)) query.Add("name=" + Escape(name));
        if (after is { } a) query.Add("after=" + a);
        if (query.Count > 0) path += "?" + string.Join('&', query);
        using var doc = await GetJsonAsync<JsonDocument>(path, cancellationToken).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("events", out var events)) root = events;
        return root.Deserialize<List<UserEvent>>(s_json) ?? [];
    }

    /// <summary>
    /// POST /v1/queries/{name}: runs a query and yields its acks and responses as the silo streams them, ending with
    /// the <c>done</c> line. Sent to another silo only if it never reached one.
    /// </summary>
    public async IAsyncEnumerable<QueryMessage> QueryAsync(string name, ReadOnlyMemory<byte> payload, QueryOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stream = await StartQueryAsync(name, payload, options, cancellationToken).ConfigureAwait(false);
        await foreach (var message in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
            yield return message;
    }

    /// <summary>
    /// Sends a query and returns once the silo has accepted it (an error answer throws <see cref="PlatformApiException"/>);
    /// enumerate the result for the acks and responses as they arrive.
    /// </summary>
    public async Task<QueryStream> StartQueryAsync(string name, ReadOnlyMemory<byte> payload, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new QueryOptions();
        var path = new StringBuilder("/v1/queries/").Append(Escape(name));
        var sep = '?';
        void Add(string key, string value)
        {
            path.Append(sep).Append(key).Append('=').Append(Escape(value));
            sep = '&';
        }
        foreach (var node in options.Nodes) Add("node", node);
        foreach (var tag in options.Tags) Add("tag", tag.ToString());
        if (options.Timeout is { } t) Add("timeout", FormatDuration(t));
        if (!options.RequestAck) Add("ack", "false");
        var request = new HttpRequestMessage(HttpMethod.Post, path.ToString()) { Content = Payload(payload) };
        var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return new QueryStream(response);
    }

    /// <summary>GET /v1/monitor: member events, user events and queries as the silo streams them, until cancelled or the silo ends it.</summary>
    public async IAsyncEnumerable<MonitorEvent> MonitorAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/monitor"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await foreach (var line in ReadLinesAsync(response, cancellationToken).ConfigureAwait(false))
            yield return MonitorEvent.Parse(line, s_json);
    }

    /// <summary>A duration as the API takes it: whole seconds as <c>5s</c>, else milliseconds (<c>1500ms</c>).</summary>
    internal static string FormatDuration(TimeSpan t)
        => t.Ticks % TimeSpan.TicksPerSecond == 0 ? $"{(long)t.TotalSeconds}s" : $"{(long)Math.Ceiling(t.TotalMilliseconds)}ms";
}
