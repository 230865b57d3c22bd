using System.Buffers;
using System.Text;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// The parameters of a keys request as etcd reads them (Go's <c>Request.ParseForm</c>): the form body of a PUT or
/// POST first, then the query string; a parameter's value is its first one.
/// </summary>
internal sealed class EtcdForm
{
    /// <summary>Every parameter etcd's keys API knows; any other is refused.</summary>
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "value", "ttl", "dir", "prevValue", "prevIndex", "prevExist", "recursive", "sorted", "wait", "waitIndex",
        "quorum", "stream", "refresh", "noValueOnSuccess",
    };

    /// <summary>Go's <c>maxFormSize</c>: a larger form body is refused.</summary>
    private const int MaxFormBytes = 10 << 20;

    private readonly List<KeyValuePair<string, string>> _pairs;

    private EtcdForm(List<KeyValuePair<string, string>> pairs) => _pairs = pairs;

    /// <summary>
    /// Reads the form body (PUT, POST and PATCH with a form content type) and the query string, strictly as Go's
    /// <c>url.ParseQuery</c> does: a bad <c>%</c> escape or a <c>;</c> separator is error 210, as in etcd.
    /// </summary>
    public static async Task<EtcdForm> ReadAsync(HttpRequest request)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if ((HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method) || HttpMethods.IsPatch(request.Method))
            && request.ContentType is { } type && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            var body = await ReadBodyAsync(request);
            Parse(body, pairs);
        }
        var query = request.QueryString.Value;
        if (!string.IsNullOrEmpty(query)) Parse(query.AsSpan(1), pairs);
        return new EtcdForm(pairs);
    }

    /// <summary>The parameters of a request without a form body: its query string (without the <c>?</c>).</summary>
    public static EtcdForm FromQuery(ReadOnlySpan<char> query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Parse(query, pairs);
        return new EtcdForm(pairs);
    }

    /// <summary>The parameters of a request with a form body (its bytes as Latin-1 text) and its query string, body first.</summary>
    public static EtcdForm FromBodyAndQuery(ReadOnlySpan<char> body, ReadOnlySpan<char> query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        Parse(body, pairs);
        Parse(query, pairs);
        return new EtcdForm(pairs);
    }

    /// <summary>The path of a request target as the client sent it, %-decoded once (Go's <c>URL.Path</c>).</summary>
    public static string DecodePath(string rawPath) => Unescape(rawPath, plusIsSpace: false);

    /// <summary>The path of the request target as the client sent it, %-decoded once (Go's <c>URL.Path</c>); dot segments are left for the key check to refuse.</summary>
    public static string RawPath(HttpRequest request)
    {
        var target = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target[0] != '/') return request.Path.Value ?? "/";
        var query = target.IndexOf('?');
        return DecodePath(query < 0 ? target : target[..query]);
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxFormBytes) throw new KeyException(KeyErrorCode.InvalidForm, "http: POST too large", 0);
        // One pooled buffer, sized by Content-Length when there is one: a PUT allocates only its string.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 4096, 16, MaxFormBytes));
        var length = 0;
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
                if (length > MaxFormBytes) throw new KeyException(KeyErrorCode.InvalidForm, "http: POST too large", 0);
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxFormBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            // Percent escapes are ASCII, so the body decodes to text first and the escapes after.
            return Encoding.Latin1.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Go's <c>url.ParseQuery</c> into <paramref name="pairs"/>; throws 210 with Go's message at the first bad pair.</summary>
    private static void Parse(ReadOnlySpan<char> text, List<KeyValuePair<string, string>> pairs)
    {
        while (text.Length > 0)
        {
            var amp = text.IndexOf('&');
            var pair = amp < 0 ? text : text[..amp];
            text = amp < 0 ? [] : text[(amp + 1)..];
            if (pair.Length == 0) continue;
            if (pair.Contains(';')) throw new KeyException(KeyErrorCode.InvalidForm, "invalid semicolon separator in query", 0);
            var eq = pair.IndexOf('=');
            var key = Unescape(eq < 0 ? pair.ToString() : pair[..eq].ToString(), plusIsSpace: true);
            var value = eq < 0 ? "" : Unescape(pair[(eq + 1)..].ToString(), plusIsSpace: true);
            pairs.Add(new(key, value));
        }
    }

    /// <summary>Go's <c>QueryUnescape</c> (or path unescape): <c>%XX</c> to bytes, UTF-8 decoded; a bad escape is error 210.</summary>
    private static string Unescape(string raw, bool plusIsSpace)
    {
        if (raw.IndexOf('%') < 0 && (!plusIsSpace || raw.IndexOf('+') < 0) && IsAscii(raw)) return raw;
        // Decoding never lengthens: one byte per character at most.
        var bytes = raw.Length <= 512 ? stackalloc byte[raw.Length] : new byte[raw.Length];
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '%')
            {
                if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
                {
                    var shown = raw.Substring(i, Math.Min(3, raw.Length - i));
                    throw new KeyException(KeyErrorCode.InvalidForm, $"invalid URL escape \"{shown}\"", 0);
                }
                bytes[n++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            else
            {
                // The text came from Latin-1 bytes (the body) or an ASCII query, so every character is one byte.
                bytes[n++] = c == '+' && plusIsSpace ? (byte)' ' : (byte)c;
            }
        }
        try
        {
            return s_strictUtf8.GetString(bytes[..n]);
        }
        catch (DecoderFallbackException)
        {
            throw new KeyException(KeyErrorCode.InvalidForm, $"invalid UTF-8 in {KeyPath.Quote(raw)}", 0);
        }
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static readonly UTF8Encoding s_strictUtf8 = new(false, throwOnInvalidBytes: true);

    private static bool IsAscii(string s)
    {
        foreach (var c in s)
            if (c > 0x7F) return false;
        return true;
    }

    public bool Has(string name)
    {
        foreach (var (key, _) in _pairs)
            if (key == name) return true;
        return false;
    }

    /// <summary>The first value of <paramref name="name"/>; null when absent.</summary>
    public string? First(string name)
    {
        foreach (var (key, value) in _pairs)
            if (key == name) return value;
        return null;
    }

    /// <summary>Go's <c>FormValue</c>: the first value, or "" when absent.</summary>
    public string Value(string name) => First(name) ?? "";

    /// <summary>A parameter no keys request takes, if any.</summary>
    public string? FirstUnknown()
    {
        foreach (var (key, _) in _pairs)
            if (!s_known.Contains(key)) return key;
        return null;
    }

    /// <summary>Go's <c>strconv.ParseBool</c> of a present parameter; false when absent; 209 naming it when invalid.</summary>
    public bool Bool(string name, string cause)
    {
        if (First(name) is not { } raw) return false;
        return ParseBool(raw) ?? throw new KeyException(KeyErrorCode.InvalidField, cause, 0);
    }

    /// <summary>A present boolean parameter, or null when absent.</summary>
    public bool? OptionalBool(string name, string cause) => Has(name) ? Bool(name, cause) : null;

    /// <summary>Go's <c>strconv.ParseUint</c> of a present parameter (an empty one is invalid); 0 when absent.</summary>
    public ulong UInt(string name, KeyErrorCode code, string cause)
    {
        if (First(name) is not { } raw) return 0;
        return ParseUInt(raw) ?? throw new KeyException(code, cause, 0);
    }

    internal static bool? ParseBool(string raw) => raw switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => null,
    };

    internal static ulong? ParseUInt(string raw)
    {
        if (raw.Length == 0) return null;
        foreach (var c in raw)
            if (c is < '0' or > '9') return null;
        return ulong.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
