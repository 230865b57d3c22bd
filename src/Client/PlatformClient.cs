using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Platform.Client;

/// <summary>
/// Typed access to the silos' HTTP API (docs/nodes.md). Built from <see cref="PlatformClientOptions"/>, it fails over
/// across the configured silos; an error the API answers becomes a <see cref="PlatformApiException"/>.
/// </summary>
public sealed partial class PlatformClient : IDisposable
{
    /// <summary>The default silo address.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeSpan _requestTimeout;

    /// <summary>A client on a caller-made <see cref="HttpClient"/> (its base address is the one silo; no failover).</summary>
    public PlatformClient(HttpClient http)
    {
        _http = http;
        _requestTimeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>A client that fails over across <see cref="PlatformClientOptions.Urls"/>.</summary>
    public PlatformClient(PlatformClientOptions options)
    {
        var connectTimeout = options.ConnectTimeout;
        var sockets = new SocketsHttpHandler
        {
            // Our own connect, so a connect that times out is a SocketException (TimedOut): the request never reached the silo.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(connectTimeout);
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, timeout.Token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    socket.Dispose();
                    throw new SocketException((int)SocketError.TimedOut);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        options.Tls?.Configure(sockets);
        _http = new HttpClient(new SiloFailoverHandler(options.Urls, sockets))
        {
            BaseAddress = options.Urls[0],
            Timeout = Timeout.InfiniteTimeSpan, // streams (query, monitor) run as long as they need; other calls use RequestTimeout
        };
        if (!string.IsNullOrEmpty(options.Token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        _ownsHttp = true;
        _requestTimeout = options.RequestTimeout;
    }

    /// <summary>The JSON options of the API (camelCase).</summary>
    public static JsonSerializerOptions Json => s_json;

    /// <summary>GET /v1/cluster as a JSON document.</summary>
    public async Task<JsonDocument> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/cluster"), HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), cancellationToken: timeout.Token).ConfigureAwait(false);
    }

    /// <summary>True when GET /health/ready answers 200 (false for any other answer).</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/health/ready"), timeout.Token).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    private CancellationTokenSource RequestTimeout(CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_requestTimeout != Timeout.InfiniteTimeSpan) cts.CancelAfter(_requestTimeout);
        return cts;
    }

    private static HttpContent JsonBody<T>(T value)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, s_json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static HttpContent Payload(ReadOnlyMemory<byte> payload)
    {
        var content = new ReadOnlyMemoryContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    /// <summary>Sends and throws <see cref="PlatformApiException"/> for an answer that is not a success.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode) return response;
        using (response)
            throw await ErrorAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> GetJsonAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        var value = await response.Content.ReadFromJsonAsync<T>(s_json, timeout.Token).ConfigureAwait(false);
        return value ?? throw new JsonException($"GET {path} answered the JSON null");
    }

    private async Task<JsonDocument> SendForJsonAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        return body.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(body);
    }

    /// <summary>Streams the lines of an NDJSON answer as they arrive.</summary>
    internal static async IAsyncEnumerable<string> ReadLinesAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0) yield return line;
        }
    }

    private static async Task<PlatformApiException> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var silo = response.RequestMessage?.RequestUri is { } uri ? new Uri(uri.GetLeftPart(UriPartial.Authority)) : null;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            body = e.Message;
        }
        var message = ErrorMessage(response.StatusCode, body);
        return new PlatformApiException(response.StatusCode, message, silo);
    }

    /// <summary>The API's <c>{"error":"..."}</c> message, or the status and the start of the body when the answer has none.</summary>
    internal static string ErrorMessage(HttpStatusCode status, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String) return error.GetString()!;
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) return m.GetString()!;
            }
        }
        catch (JsonException)
        {
        }
        var text = body.Trim();
        if (text.Length > 200) text = text[..200] + "…";
        return text.Length == 0 ? $"HTTP {(int)status} {status}" : $"HTTP {(int)status} {status}: {text}";
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}
