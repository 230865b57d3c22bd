namespace Platform.Client;

/// <summary>Where the silos are and how long to wait for them. Every silo answers every request, so any of them will do.</summary>
public sealed class PlatformClientOptions
{
    /// <summary>The environment variable holding a comma-separated list of silo URLs.</summary>
    public const string UrlEnvironmentVariable = "PLATFORM_URL";

    /// <summary>The silos, tried in order; an unreachable one fails over to the next. Default: <see cref="PlatformClient.DefaultUrl"/>.</summary>
    public IReadOnlyList<Uri> Urls { get; init; } = [new Uri(PlatformClient.DefaultUrl)];

    /// <summary>The environment variable holding the access token the CLI sends.</summary>
    public const string TokenEnvironmentVariable = "PLATFORM_TOKEN";

    /// <summary>The access token sent as <c>Authorization: Bearer</c> with every request, or null (docs/security.md).</summary>
    public string? Token { get; init; }

    /// <summary>CA, client certificate and key (PEM) for https silos; null trusts the system's roots and presents no certificate.</summary>
    public Tls.TlsClientSettings? Tls { get; init; }

    /// <summary>How long a TCP connect may take before the silo counts as unreachable (default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request that is not a stream may take, all attempts together (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The silo list from explicit URLs (e.g. repeated <c>--url</c>), else from <c>PLATFORM_URL</c> (comma-separated), else the default.
    /// Throws <see cref="ArgumentException"/> naming the URL that is not an absolute http(s) URL.
    /// </summary>
    public static IReadOnlyList<Uri> ResolveUrls(IEnumerable<string>? explicitUrls, string? environmentValue)
    {
        var given = explicitUrls?.Where(u => !string.IsNullOrWhiteSpace(u)).ToList() ?? [];
        var source = "--url";
        if (given.Count == 0 && !string.IsNullOrWhiteSpace(environmentValue))
        {
            given = [.. environmentValue.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            source = UrlEnvironmentVariable;
        }
        if (given.Count == 0) return [new Uri(PlatformClient.DefaultUrl)];
        var urls = new List<Uri>(given.Count);
        foreach (var text in given)
        {
            if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"silo URL '{text}' (from {source}) is not valid; expected an absolute http(s) URL such as {PlatformClient.DefaultUrl}");
            urls.Add(uri);
        }
        return urls;
    }
}
