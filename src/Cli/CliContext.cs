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
        return new PlatformClient(new PlatformClientOptions { Urls = resolved });
    }
}
