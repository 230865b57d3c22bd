namespace Platform.Agent.Deploy;

/// <summary>
/// A token (none: an open silo) and the silos it may be sent to: a manifest's or an archive's URL on one of them (same
/// scheme, host and port; <c>ws</c> counts as <c>http</c>, <c>wss</c> as <c>https</c>) gets it as <c>Authorization: Bearer</c>,
/// any other URL never does.
/// </summary>
public sealed record SiloAccess(string? Token, IReadOnlyList<Uri> Silos)
{
    /// <summary>Whether <paramref name="uri"/> is on one of the silos.</summary>
    public bool Serves(Uri uri)
    {
        foreach (var silo in Silos)
        {
            if (HttpScheme(silo.Scheme) == uri.Scheme && silo.Port == uri.Port
                && string.Equals(silo.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    /// <summary>The token when <paramref name="uri"/> is on one of the silos, else null.</summary>
    public string? TokenFor(Uri uri) => Serves(uri) ? Token : null;

    /// <summary>The access in <c>PLATFORM_TOKEN</c> and <c>PLATFORM_URL</c> (comma-separated), the variables every <c>platform</c> command reads; null when either is unset.</summary>
    public static SiloAccess? FromEnvironment(Func<string, string?> environment)
    {
        if (environment("PLATFORM_TOKEN") is not { Length: > 0 } token || environment("PLATFORM_URL") is not { Length: > 0 } urls) return null;
        var silos = new List<Uri>();
        foreach (var text in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (Uri.TryCreate(text, UriKind.Absolute, out var silo)) silos.Add(silo);
        return new SiloAccess(token.Trim(), silos);
    }

    // The agent's connection URL may be ws(s)://; its artifacts are served over http(s) on the same port.
    private static string HttpScheme(string scheme) => scheme switch { "ws" => "http", "wss" => "https", _ => scheme };
}
