using System.Buffers;
using System.Globalization;
using System.Text.Unicode;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Platform.Grains.Keys;
using Platform.Protocol;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>A <c>/v1/kv</c> request Consul's way: the key from the path and the query parameters, checked.</summary>
internal sealed class ConsulKvRequest
{
    /// <summary>Consul's largest value (its <c>kv_max_value_size</c> default), in bytes.</summary>
    public const int MaxValueBytes = 512 * 1024;

    /// <summary>Parameters every method takes and ignores: this keyspace has one datacenter, no ACLs and one consistency.</summary>
    private static readonly string[] s_ignored = ["stale", "consistent", "dc", "token"];

    private static readonly string[] s_get = ["recurse", "keys", "separator", "raw", "index", "wait"];
    private static readonly string[] s_put = ["flags", "cas"];
    private static readonly string[] s_delete = ["recurse", "cas"];

    /// <summary>Consul's default and longest blocking-query wait.</summary>
    private static readonly TimeSpan s_defaultWait = TimeSpan.FromMinutes(5), s_maxWait = TimeSpan.FromMinutes(10);

    /// <summary>The Consul key as given, e.g. <c>a/b</c> or the folder <c>a/b/</c>; empty for the root.</summary>
    public required string Key { get; init; }

    /// <summary>The keyspace key it maps to: <c>/a/b</c> for both <c>a/b</c> and <c>a/b/</c>; <c>/</c> for the root.</summary>
    public required string NormalKey { get; init; }

    /// <summary>The key names a folder (it ends with <c>/</c>): a directory of the keyspace.</summary>
    public bool IsFolder => Key.EndsWith('/');

    public bool Recurse { get; init; }

    public bool Keys { get; init; }

    /// <summary>With <see cref="Keys"/>: names are cut after the first separator following the prefix; null for none.</summary>
    public string? Separator { get; init; }

    public bool Raw { get; init; }

    /// <summary>The blocking query's index; 0 for a plain read.</summary>
    public ulong Index { get; init; }

    /// <summary>How long a blocking query waits, jitter included.</summary>
    public TimeSpan Wait { get; init; }

    public ulong Flags { get; init; }

    /// <summary>The check-and-set index; null when none was given.</summary>
    public ulong? Cas { get; init; }

    /// <summary>Parses a GET, PUT or DELETE on <c>/v1/kv</c>; throws <see cref="ConsulKvException"/> (400) naming what is wrong.</summary>
    public static ConsulKvRequest Parse(HttpContext context, string routePrefix)
    {
        var request = context.Request;
        var method = request.Method;
        var query = request.Query;
        var known = HttpMethods.IsGet(method) ? s_get : HttpMethods.IsPut(method) ? s_put : s_delete;
        CheckParameters(query, method, known);

        var key = DecodeKey(context, routePrefix);
        var recurse = query.ContainsKey("recurse");
        var keys = HttpMethods.IsGet(method) && query.ContainsKey("keys");
        var cas = UInt(query, "cas", "Invalid cas");
        if (HttpMethods.IsDelete(method) && recurse && cas is not null) throw new ConsulKvException(400, "Conflicting flags: recurse and cas cannot be used together");
        if (key.Length == 0 && !(recurse || keys)) throw new ConsulKvException(400, "Missing key name");
        if (key.StartsWith('/')) throw new ConsulKvException(400, $"invalid key {KeyPath.Quote(key)}: a key must not begin with \"/\"");
        if (!KeyPath.TryNormalize(key, out var normal, out var problem)) throw new ConsulKvException(400, problem);

        var wait = s_defaultWait;
        if (query["wait"].FirstOrDefault() is { Length: > 0 } waitText)
        {
            if (!GoDuration.TryParse(waitText, out wait))
                throw new ConsulKvException(400, $"Invalid wait time: {KeyPath.Quote(waitText)} is not a duration such as \"10s\", \"5m\" or \"300ms\"");
            if (wait < TimeSpan.Zero) throw new ConsulKvException(400, $"Invalid wait time: {KeyPath.Quote(waitText)} is negative");
            if (wait == TimeSpan.Zero) wait = s_defaultWait;
            if (wait > s_maxWait) wait = s_maxWait;
        }
        // Consul spreads out the wake-ups of watchers that started together by up to 1/16 of the wait.
        wait += TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (wait.Ticks / 16)));

        return new ConsulKvRequest
        {
            Key = key,
            NormalKey = normal,
            Recurse = recurse,
            Keys = keys,
            Separator = query["separator"].FirstOrDefault() is { Length: > 0 } separator ? separator : null,
            Raw = query.ContainsKey("raw"),
            Index = UInt(query, "index", "Invalid index") ?? 0,
            Wait = wait,
            Flags = UInt(query, "flags", "Invalid flags") ?? 0,
            Cas = cas,
        };
    }

    /// <summary>Reads a PUT's body as the value: at most <see cref="MaxValueBytes"/> (else 413) of valid UTF-8 (else 400).</summary>
    public async Task<string> ReadValueAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxValueBytes)
            throw new ConsulKvException(413, $"Value exceeds {MaxValueBytes} byte limit: the value for {KeyPath.Quote(Key)} is {request.ContentLength} bytes");
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(MaxValueBytes + 1, request.ContentLength + 1 ?? 16 * 1024));
        try
        {
            // Reads at most one byte past the limit: enough to know the value is too large.
            var capacity = Math.Min(buffer.Length, MaxValueBytes + 1);
            var length = 0;
            while (true)
            {
                if (length == capacity)
                {
                    if (length > MaxValueBytes)
                        throw new ConsulKvException(413, $"Value exceeds {MaxValueBytes} byte limit: the value for {KeyPath.Quote(Key)} is larger");
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(MaxValueBytes + 1, capacity * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    capacity = Math.Min(buffer.Length, MaxValueBytes + 1);
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, capacity - length), request.HttpContext.RequestAborted);
                if (read == 0) break;
                length += read;
            }
            return DecodeUtf8(buffer.AsSpan(0, length), offset =>
                $"the value for {KeyPath.Quote(Key)} is not valid UTF-8 (byte 0x{buffer[offset]:X2} at offset {offset}): values are stored as text");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Refuses a parameter this method does not take, naming every one of them.</summary>
    private static void CheckParameters(IQueryCollection query, string method, string[] known)
    {
        List<string>? unknown = null;
        foreach (var name in query.Keys)
        {
            if (Array.IndexOf(known, name) < 0 && Array.IndexOf(s_ignored, name) < 0) (unknown ??= []).Add(KeyPath.Quote(name));
        }
        if (unknown is null) return;
        var message = new StringBuilder(unknown.Count == 1 ? "Unknown query parameter " : "Unknown query parameters ")
            .AppendJoin(", ", unknown)
            .Append(": ").Append(method.ToUpperInvariant()).Append(" /v1/kv takes ").AppendJoin(", ", known)
            .Append(" (and ignores ").AppendJoin(", ", s_ignored).Append(')');
        if (query.ContainsKey("acquire") || query.ContainsKey("release")) message.Append("; sessions and locks (acquire, release) are not supported");
        throw new ConsulKvException(400, message.ToString());
    }

    private static ulong? UInt(IQueryCollection query, string name, string error)
    {
        if (query[name].FirstOrDefault() is not { Length: > 0 } text) return null;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return value;
        throw new ConsulKvException(400, $"{error}: {KeyPath.Quote(text)} is not an unsigned 64-bit integer");
    }

    /// <summary>
    /// The key: the request target after the route, percent-decoded as Go decodes a path (so <c>%2F</c> is a slash,
    /// as clients that encode the whole key send it). Read from the raw target, so nothing is decoded twice.
    /// </summary>
    internal static string DecodeKey(HttpContext context, string routePrefix)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || !target.StartsWith(routePrefix, StringComparison.Ordinal))
        {
            // Not origin-form (or the route itself was escaped): the server's decoded path, where only %2F is left encoded.
            var path = (context.Request.Path.Value ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
            return path.Length <= routePrefix.Length + 1 ? "" : path[(routePrefix.Length + 1)..];
        }
        var raw = target.AsSpan(routePrefix.Length);
        var queryStart = raw.IndexOf('?');
        if (queryStart >= 0) raw = raw[..queryStart];
        if (raw.StartsWith("/")) raw = raw[1..];
        if (raw.IndexOf('%') < 0) return raw.ToString();

        var bytes = new byte[Encoding.UTF8.GetMaxByteCount(raw.Length)];
        var length = 0;
        for (var i = 0; i < raw.Length;)
        {
            if (raw[i] == '%')
            {
                if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
                    throw new ConsulKvException(400, $"invalid key: {KeyPath.Quote(raw[i..Math.Min(raw.Length, i + 3)].ToString())} at position {i} of the path is not a percent-escape");
                bytes[length++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 3;
                continue;
            }
            var next = raw[i..].IndexOf('%');
            var end = next < 0 ? raw.Length : i + next;
            length += Encoding.UTF8.GetBytes(raw[i..end], bytes.AsSpan(length));
            i = end;
        }
        return DecodeUtf8(bytes.AsSpan(0, length), offset => $"invalid key: the path is not valid UTF-8 once percent-decoded (byte 0x{bytes[offset]:X2} at offset {offset})");
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes, Func<int, string> problem)
    {
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done) throw new ConsulKvException(400, problem(read));
        return new string(chars, 0, written);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/// <summary>A <c>/v1/kv</c> request that fails: the HTTP status and the plain-text message Consul-style clients show.</summary>
internal sealed class ConsulKvException(int status, string message, ulong? index = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The keyspace index to report in <c>X-Consul-Index</c>; null when the keyspace was not consulted.</summary>
    public ulong? Index { get; } = index;

    /// <summary>A keyspace failure the facade has no Consul answer for: 500 when the keyspace is unavailable, else 400.</summary>
    public static ConsulKvException From(KeyResult result) => new(
        result.ErrorCode is KeyErrorCode.RaftInternal or KeyErrorCode.LeaderElect ? 500 : 400,
        $"{KeyErrors.Message(result.ErrorCode)}: {result.ErrorCause}",
        result.ErrorIndex);
}
