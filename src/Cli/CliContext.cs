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

    /// <summary>PEM files for https silos, from <c>PLATFORM_CA_FILE</c>, <c>PLATFORM_CERT_FILE</c> and <c>PLATFORM_KEY_FILE</c> (with none set, the machine's CA store).</summary>
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
        try
        {
            return new PlatformClient(new PlatformClientOptions { Urls = resolved, Tls = Tls, Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim() });
        }
        catch (Platform.Client.Tls.TlsSettingsException e)
        {
            throw new UsageException($"{TlsVariableOf(e.Message)}: {e.Message}");
        }
    }

    /// <summary>The variable whose file <paramref name="message"/> names, so the error says which setting to fix.</summary>
    private string TlsVariableOf(string message)
    {
        foreach (var (variable, file) in new[] { (CertFileVariable, Tls?.CertFile), (KeyFileVariable, Tls?.KeyFile), (CaFileVariable, Tls?.CaFile) })
            if (file is not null && message.Contains($"'{file}'", StringComparison.Ordinal)) return variable;
        return $"{CaFileVariable}/{CertFileVariable}/{KeyFileVariable}";
    }

    /// <summary>PEM bundle of the CA(s) an https silo's certificate must chain to (else the machine's CA store).</summary>
    public const string CaFileVariable = "PLATFORM_CA_FILE";

    /// <summary>PEM file of a client certificate to present to the silo.</summary>
    public const string CertFileVariable = "PLATFORM_CERT_FILE";

    /// <summary>PEM file of that certificate's key (else read from the certificate file).</summary>
    public const string KeyFileVariable = "PLATFORM_KEY_FILE";

    private static Platform.Client.Tls.TlsClientSettings TlsFromEnvironment()
    {
        var ca = Environment.GetEnvironmentVariable(CaFileVariable);
        var cert = Environment.GetEnvironmentVariable(CertFileVariable);
        var key = Environment.GetEnvironmentVariable(KeyFileVariable);
        // Settings even when none is set: the machine's CA store is then checked by the same validator, whose refusals say why.
        return new Platform.Client.Tls.TlsClientSettings
        {
            CaFile = string.IsNullOrEmpty(ca) ? null : ca,
            CertFile = string.IsNullOrEmpty(cert) ? null : cert,
            KeyFile = string.IsNullOrEmpty(key) ? null : key,
        };
    }
}
