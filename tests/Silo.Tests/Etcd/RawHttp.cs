using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Platform.Silo.Tests.Etcd;

/// <summary>An HTTP response as it came over the wire.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The body as JSON, or null when it is not JSON.</summary>
    public JsonElement? Json
    {
        get
        {
            try
            {
                return JsonDocument.Parse(Body).RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public override string ToString() => $"{Status} {(Body.Length > 300 ? Body[..300] + "..." : Body)}";
}

/// <summary>
/// One HTTP/1.1 request written exactly as given: HttpClient and curl clean <c>..</c> and <c>.</c> out of paths
/// before sending, and the bad-path tests need the server to see them.
/// </summary>
public static class RawHttp
{
    public const string Form = "application/x-www-form-urlencoded";

    public static async Task<RawResponse> SendAsync(Uri server, string method, string target, string? body = null, string contentType = Form)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        var payload = Encoding.UTF8.GetBytes(body ?? "");
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n");
        if (body is not null) head.Append($"Content-Type: {contentType}\r\nContent-Length: {payload.Length}\r\n");
        else if (method is "PUT" or "POST") head.Append("Content-Length: 0\r\n");
        head.Append("\r\n");
        // One write: a server that answers without reading the body (etcd's redirects) and closes would otherwise
        // find body bytes unread, and its kernel would reset the connection, losing the answer.
        byte[] request = [.. Encoding.Latin1.GetBytes(head.ToString()), .. payload];
        await stream.WriteAsync(request, timeout.Token);

        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        return Parse(received.ToArray());
    }

    private static RawResponse Parse(byte[] bytes)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0) throw new InvalidDataException($"no complete response head in {bytes.Length} bytes: {Encoding.Latin1.GetString(bytes)}");
        var lines = Encoding.Latin1.GetString(bytes, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var body = bytes.AsSpan(end + 4);
        var text = headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase)
            ? Dechunk(body)
            : Encoding.UTF8.GetString(body);
        return new RawResponse(status, headers, text);
    }

    private static string Dechunk(ReadOnlySpan<byte> body)
    {
        var result = new MemoryStream();
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n"u8);
            if (lineEnd < 0) break;
            var sizeText = Encoding.Latin1.GetString(body[..lineEnd]).Split(';')[0].Trim();
            var size = int.Parse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0) break;
            result.Write(body.Slice(lineEnd + 2, size));
            body = body[(lineEnd + 2 + size + 2)..];
        }
        return Encoding.UTF8.GetString(result.ToArray());
    }
}
