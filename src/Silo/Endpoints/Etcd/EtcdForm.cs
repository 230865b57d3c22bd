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

    private readonly IFormCollection? _body;
    private readonly IQueryCollection _query;

    private EtcdForm(IFormCollection? body, IQueryCollection query)
    {
        _body = body;
        _query = query;
    }

    /// <summary>Reads the form; a body that is not a valid form is error 210, as in etcd.</summary>
    public static async Task<EtcdForm> ReadAsync(HttpRequest request)
    {
        IFormCollection? body = null;
        if ((HttpMethods.IsPut(request.Method) || HttpMethods.IsPost(request.Method) || HttpMethods.IsPatch(request.Method))
            && request.ContentType is { } type && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                body = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            }
            catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
            {
                throw new KeyException(KeyErrorCode.InvalidForm, $"the form body could not be read: {e.Message}", 0);
            }
        }
        return new EtcdForm(body, request.Query);
    }

    public bool Has(string name) => _body?.ContainsKey(name) == true || _query.ContainsKey(name);

    /// <summary>The first value of <paramref name="name"/>; null when absent.</summary>
    public string? First(string name)
    {
        if (_body is not null && _body.TryGetValue(name, out var fromBody) && fromBody.Count > 0) return fromBody[0];
        return _query.TryGetValue(name, out var fromQuery) && fromQuery.Count > 0 ? fromQuery[0] : null;
    }

    /// <summary>Go's <c>FormValue</c>: the first value, or "" when absent.</summary>
    public string Value(string name) => First(name) ?? "";

    /// <summary>A parameter no keys request takes, if any.</summary>
    public string? FirstUnknown()
    {
        if (_body is not null)
            foreach (var key in _body.Keys)
                if (!s_known.Contains(key)) return key;
        foreach (var (key, _) in _query)
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
