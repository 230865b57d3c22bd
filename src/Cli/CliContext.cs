using System.Net;
using Platform.Client;

namespace Platform.Cli;

/// <summary>What a command runs against: where it writes, how it reaches the silos, and this machine's name.</summary>
public sealed class CliContext(TextWriter output, TextWriter error)
{
    /// <summary>Standard output.</summary>
    public TextWriter Out { get; } = output;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>The value of <c>PLATFORM_URL</c> (read once, so tests can set their own).</summary>
    public string? UrlEnvironment { get; init; } = Environment.GetEnvironmentVariable(PlatformClientOptions.UrlEnvironmentVariable);

    /// <summary>The value of <c>PLATFORM_TOKEN</c> (read once, so tests can set their own).</summary>
    public string? TokenEnvironment { get; init; } = Environment.GetEnvironmentVariable(PlatformClientOptions.TokenEnvironmentVariable);

    /// <summary>The token given with <c>--token</c> for this run; it wins over <c>PLATFORM_TOKEN</c>.</summary>
    public string? Token { get; set; }

    /// <summary>PEM files for https silos, from <c>PLATFORM_CA_FILE</c>, <c>PLATFORM_CERT_FILE</c> and <c>PLATFORM_KEY_FILE</c> (null when none is set).</summary>
    public Platform.Client.Tls.TlsClientSettings? Tls { get; init; } = TlsFromEnvironment();

    /// <summary>The node name commands default to: this machine's host name, as Serf's agent names itself.</summary>
    public string HostName { get; init; } = Dns.GetHostName();

    /// <summary>A client for the silos given with <c>--url</c>, or <c>PLATFORM_URL</c>, or the default.</summary>
    public PlatformClient Client(string[]? urls)
    {
        IReadOnlyList<Uri> resolved;
        try
        {
            resolved = PlatformClientOptions.ResolveUrls(urls, UrlEnvironment);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var token = string.IsNullOrWhiteSpace(Token) ? TokenEnvironment : Token;
        return new PlatformClient(new PlatformClientOptions { Urls = resolved, Tls = Tls, Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim() });
    }

    private static Platform.Client.Tls.TlsClientSettings? TlsFromEnvironment()
    {
        var ca = Environment.GetEnvironmentVariable("PLATFORM_CA_FILE");
        var cert = Environment.GetEnvironmentVariable("PLATFORM_CERT_FILE");
        var key = Environment.GetEnvironmentVariable("PLATFORM_KEY_FILE");
        if (string.IsNullOrEmpty(ca) && string.IsNullOrEmpty(cert)) return null;
        return new Platform.Client.Tls.TlsClientSettings
        {
            CaFile = string.IsNullOrEmpty(ca) ? null : ca,
            CertFile = string.IsNullOrEmpty(cert) ? null : cert,
            KeyFile = string.IsNullOrEmpty(key) ? null : key,
        };
    }
}
