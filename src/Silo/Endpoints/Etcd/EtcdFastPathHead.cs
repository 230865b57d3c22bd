using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>What the fast path does with the bytes at the start of a connection's input.</summary>
internal enum EtcdHeadOutcome
{
    /// <summary>Not a whole head yet, and nothing so far that Kestrel must decide: read more.</summary>
    Incomplete,

    /// <summary>A request Kestrel serves (or refuses) itself: every byte stays unread for it.</summary>
    HandOver,

    /// <summary>A plain <c>/v2/keys…</c> head the fast path answers; <see cref="EtcdFastPathHead.Length"/> bytes are consumed (its body is read after).</summary>
    Taken,
}

/// <summary>Kestrel's limits on a request head that the fast path must not exceed (it hands such heads to Kestrel).</summary>
internal readonly record struct EtcdHeadLimits(int MaxRequestLine, int MaxHeadersTotal, int MaxHeaderCount)
{
    /// <summary>Kestrel's defaults: 8 KiB request line, 32 KiB of headers, 100 headers.</summary>
    public static EtcdHeadLimits Default { get; } = new(8 * 1024, 32 * 1024, 100);

    public static EtcdHeadLimits From(KestrelServerLimits limits) =>
        new(limits.MaxRequestLineSize, limits.MaxRequestHeadersTotalSize, limits.MaxRequestHeaderCount);

    /// <summary>The most bytes a head can have before it is surely over a limit.</summary>
    public int MaxHead => MaxRequestLine + MaxHeadersTotal + 2;
}

/// <summary>The result of parsing a request head: its outcome, the head when taken, why not when handed over.</summary>
internal readonly record struct EtcdHeadParse(EtcdHeadOutcome Outcome, EtcdFastPathHead? Head, string? Reason)
{
    public static readonly EtcdHeadParse Incomplete = new(EtcdHeadOutcome.Incomplete, null, null);

    public static EtcdHeadParse HandOver(string reason) => new(EtcdHeadOutcome.HandOver, null, reason);
}

/// <summary>
/// A request head the etcd fast path takes, and the pure parser that decides it (docs/keys.md, "The etcd fast path").
/// The parser takes only what Kestrel accepts and reads the same way; anything Kestrel would refuse or route elsewhere
/// (other methods, HTTP/1.0, absolute-form targets, dot segments, bare LF, obs-fold, control or non-ASCII bytes,
/// duplicate or missing <c>Host</c>, a body on a GET or DELETE, a PUT or POST without one <c>Content-Length</c> or with
/// a body over <see cref="MaxBody"/>, <c>Transfer-Encoding</c>, heads over Kestrel's limits) is handed over, so its
/// answer is Kestrel's by construction.
/// </summary>
internal sealed class EtcdFastPathHead
{
    /// <summary>The largest body taken (a key's value and its parameters); larger ones are rare and Kestrel's.</summary>
    public const int MaxBody = 64 * 1024;

    private static ReadOnlySpan<byte> Version => " HTTP/1.1"u8;
    private static ReadOnlySpan<byte> KeysPrefix => "/v2/keys"u8;

    /// <summary>The methods taken, each with the space after it.</summary>
    private static readonly (byte[] Prefix, string Name)[] s_methods =
        [("GET "u8.ToArray(), "GET"), ("PUT "u8.ToArray(), "PUT"), ("POST "u8.ToArray(), "POST"), ("DELETE "u8.ToArray(), "DELETE")];

    /// <summary><c>GET</c>, <c>PUT</c>, <c>POST</c> or <c>DELETE</c>.</summary>
    public string Method { get; private init; } = "GET";

    /// <summary>Whether the request changes the keyspace (anything but a GET): the write scope and the write limits apply.</summary>
    public bool IsWrite => Method != "GET";

    /// <summary>Bytes of body that follow the head (<c>Content-Length</c>; 0 for a GET or DELETE).</summary>
    public int BodyLength { get; private init; }

    /// <summary>The body is a form (<c>application/x-www-form-urlencoded</c>), read before the query as etcd reads it.</summary>
    public bool FormBody { get; private init; }

    /// <summary>The query as sent, without the <c>?</c>; empty when there is none.</summary>
    public string Query { get; private init; } = "";

    /// <summary>Bytes of the head, final empty line included: where the next request (pipelined) begins.</summary>
    public int Length { get; private init; }

    /// <summary>The target's path as sent (not decoded), e.g. <c>/v2/keys/a%20b</c>.</summary>
    public string Path { get; private init; } = "";

    /// <summary>The client sent <c>Connection: close</c>: the answer says so and the connection closes after it.</summary>
    public bool Close { get; private init; }

    /// <summary>The <c>Authorization</c> header's value as sent; null when absent.</summary>
    public string? Authorization { get; private init; }

    /// <summary>The query's parameters, or null when the query is malformed (<see cref="FormError"/>); a form body's come first (<see cref="FormBody"/>).</summary>
    public EtcdForm? Form { get; private init; }

    /// <summary>The error etcd answers for a malformed query (a bad escape, a <c>;</c> separator).</summary>
    public KeyException? FormError { get; private init; }

    /// <summary>Parses the head at the start of <paramref name="input"/> (one request; what follows is left for the next call).</summary>
    public static EtcdHeadParse Parse(ReadOnlySequence<byte> input, EtcdHeadLimits limits)
    {
        if (input.IsSingleSegment) return Parse(input.FirstSpan, limits);
        // A head split over buffer segments is rare; past MaxHead it is handed over anyway.
        var length = (int)Math.Min(input.Length, limits.MaxHead + 1);
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            input.Slice(0, length).CopyTo(copy);
            return Parse(copy.AsSpan(0, length), limits);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Parses the head at the start of <paramref name="input"/> (one request; what follows is left for the next call).</summary>
    public static EtcdHeadParse Parse(ReadOnlySpan<byte> input, EtcdHeadLimits limits)
    {
        var method = MethodOf(input, out var methodLength);
        if (method is null) return methodLength < 0 ? EtcdHeadParse.HandOver("not a GET, PUT, POST or DELETE") : EtcdHeadParse.Incomplete;

        var lineEnd = input.IndexOf((byte)'\n');
        if (lineEnd < 0) return input.Length >= limits.MaxRequestLine ? EtcdHeadParse.HandOver("request line over Kestrel's limit") : EtcdHeadParse.Incomplete;
        if (lineEnd + 1 >= limits.MaxRequestLine) return EtcdHeadParse.HandOver("request line over Kestrel's limit");
        if (lineEnd == 0 || input[lineEnd - 1] != '\r') return EtcdHeadParse.HandOver("bare LF");
        var requestLine = input[..(lineEnd - 1)];
        if (!requestLine.EndsWith(Version)) return EtcdHeadParse.HandOver("not HTTP/1.1");
        var target = requestLine[methodLength..^Version.Length];
        if (TargetProblem(target) is { } problem) return EtcdHeadParse.HandOver(problem);

        var hosts = 0;
        var close = false;
        var connections = 0;
        var contentLengths = 0;
        var bodyLength = 0;
        var contentTypes = 0;
        var formBody = false;
        string? authorization = null;
        var authorizations = 0;
        var headers = 0;
        var start = lineEnd + 1;
        while (true)
        {
            var rest = input[start..];
            var end = rest.IndexOf((byte)'\n');
            if (end < 0)
            {
                return start - (lineEnd + 1) + rest.Length >= limits.MaxHeadersTotal
                    ? EtcdHeadParse.HandOver("headers over Kestrel's limit")
                    : EtcdHeadParse.Incomplete;
            }
            if (start - (lineEnd + 1) + end + 1 >= limits.MaxHeadersTotal) return EtcdHeadParse.HandOver("headers over Kestrel's limit");
            if (end == 0 || rest[end - 1] != '\r') return EtcdHeadParse.HandOver("bare LF");
            var line = rest[..(end - 1)];
            start += end + 1;
            if (line.IsEmpty) break;
            if (++headers >= limits.MaxHeaderCount) return EtcdHeadParse.HandOver("more headers than Kestrel's limit");
            if (line[0] is (byte)' ' or (byte)'\t') return EtcdHeadParse.HandOver("obs-fold");

            var colon = line.IndexOf((byte)':');
            if (colon <= 0) return EtcdHeadParse.HandOver("header without a name");
            var name = line[..colon];
            foreach (var b in name)
                if (!IsTokenChar(b)) return EtcdHeadParse.HandOver("header name not a token");
            var value = line[(colon + 1)..].Trim(" \t"u8);
            foreach (var b in value)
                if (b is < 0x20 and not (byte)'\t' or >= 0x7F) return EtcdHeadParse.HandOver("control or non-ASCII byte in a header value");

            if (Ascii.EqualsIgnoreCase(name, "Host"u8))
            {
                if (++hosts > 1) return EtcdHeadParse.HandOver("duplicate Host");
                foreach (var b in value)
                    if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'.' or (byte)'-' or (byte)':' or (byte)'[' or (byte)']' or (byte)'_'))
                        return EtcdHeadParse.HandOver("Host not a plain host name");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (++contentLengths > 1) return EtcdHeadParse.HandOver("more than one Content-Length");
                if (!TryParseLength(value, out bodyLength)) return EtcdHeadParse.HandOver("Content-Length not a plain number up to MaxBody");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Type"u8))
            {
                if (++contentTypes > 1) return EtcdHeadParse.HandOver("more than one Content-Type");
                // As the HTTP layer's form reader tests it (EtcdForm.ReadAsync).
                formBody = value.Length >= FormType.Length && Ascii.EqualsIgnoreCase(value[..FormType.Length], FormType);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                if (++connections > 1) return EtcdHeadParse.HandOver("more than one Connection header");
                if (Ascii.EqualsIgnoreCase(value, "close"u8)) close = true;
                else if (!Ascii.EqualsIgnoreCase(value, "keep-alive"u8)) return EtcdHeadParse.HandOver("Connection other than keep-alive or close");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Authorization"u8))
            {
                if (++authorizations > 1) return EtcdHeadParse.HandOver("more than one Authorization header");
                authorization = Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) || Ascii.EqualsIgnoreCase(name, "Expect"u8)
                     || Ascii.EqualsIgnoreCase(name, "Upgrade"u8) || Ascii.EqualsIgnoreCase(name, "TE"u8))
            {
                return EtcdHeadParse.HandOver($"{Encoding.ASCII.GetString(name)} header");
            }
        }
        if (hosts == 0) return EtcdHeadParse.HandOver("no Host");
        var hasBody = method is "PUT" or "POST";
        // Kestrel answers a PUT or POST without a length 411, and a body the HTTP layer does not read it drains.
        if (hasBody && contentLengths == 0) return EtcdHeadParse.HandOver("a PUT or POST without Content-Length");
        if (!hasBody && bodyLength != 0) return EtcdHeadParse.HandOver("a body on a GET or DELETE");

        var query = target.IndexOf((byte)'?');
        var queryText = query < 0 ? "" : Encoding.ASCII.GetString(target[(query + 1)..]);
        EtcdForm? form = null;
        KeyException? formError = null;
        try
        {
            form = EtcdForm.FromQuery(queryText);
        }
        catch (KeyException e)
        {
            formError = e;
        }
        // A stream of events (stream=true, however the name is escaped) is rare and long; Kestrel serves it.
        if (form?.First("stream") is { } stream && EtcdForm.ParseBool(stream) == true) return EtcdHeadParse.HandOver("stream=true");
        var head = new EtcdFastPathHead
        {
            Method = method,
            BodyLength = bodyLength,
            FormBody = hasBody && formBody,
            Query = queryText,
            Length = start,
            Path = Encoding.ASCII.GetString(query < 0 ? target : target[..query]),
            Close = close,
            Authorization = authorization,
            Form = form,
            FormError = formError,
        };
        return new EtcdHeadParse(EtcdHeadOutcome.Taken, head, null);
    }

    private static ReadOnlySpan<byte> FormType => "application/x-www-form-urlencoded"u8;

    /// <summary>
    /// The method <paramref name="input"/> starts with and the length of its prefix; null with a length of 0 while the
    /// input is still the start of one, or -1 when it is none of them.
    /// </summary>
    private static string? MethodOf(ReadOnlySpan<byte> input, out int length)
    {
        length = -1;
        foreach (var (prefix, name) in s_methods)
        {
            var n = Math.Min(input.Length, prefix.Length);
            if (!input[..n].SequenceEqual(prefix.AsSpan(0, n))) continue;
            if (n == prefix.Length)
            {
                length = n;
                return name;
            }
            length = 0;
        }
        return null;
    }

    /// <summary>A <c>Content-Length</c> of plain digits (no sign, no leading zero) up to <see cref="MaxBody"/>.</summary>
    private static bool TryParseLength(ReadOnlySpan<byte> value, out int length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 6 || value.Length > 1 && value[0] == '0') return false;
        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            length = length * 10 + (b - '0');
        }
        return length <= MaxBody;
    }

    /// <summary>Why the fast path does not take <paramref name="target"/>; null when it does.</summary>
    private static string? TargetProblem(ReadOnlySpan<byte> target)
    {
        // Origin form on /v2/keys only: absolute-form (http://…), asterisk and other paths are Kestrel's.
        if (!target.StartsWith(KeysPrefix) || target.Length > KeysPrefix.Length && target[KeysPrefix.Length] is not ((byte)'/' or (byte)'?'))
            return "not an origin-form /v2/keys target";
        foreach (var b in target)
            if (b is <= 0x20 or >= 0x7F or (byte)'#') return "control, space, non-ASCII or # in the target";
        var query = target.IndexOf((byte)'?');
        // Kestrel removes dot segments (also percent-encoded ones) before routing: /v2/keys/../version is /version.
        return HasDotSegment(query < 0 ? target : target[..query]) ? "dot segment in the path" : null;
    }

    /// <summary>Whether a segment of <paramref name="path"/> is <c>.</c> or <c>..</c>, literally or with <c>%2E</c>.</summary>
    private static bool HasDotSegment(ReadOnlySpan<byte> path)
    {
        foreach (var range in path.Split((byte)'/'))
        {
            var segment = path[range];
            if (segment.IsEmpty || segment.Length > 6) continue;
            var dots = 0;
            while (!segment.IsEmpty)
            {
                if (segment[0] == '.') segment = segment[1..];
                else if (segment.Length >= 3 && segment[0] == '%' && segment[1] == '2' && segment[2] is (byte)'e' or (byte)'E') segment = segment[3..];
                else break;
                dots++;
            }
            if (segment.IsEmpty && dots is 1 or 2) return true;
        }
        return false;
    }

    private static bool IsTokenChar(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || b is (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*'
            or (byte)'+' or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';
}
