using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Silo.Hosting;

namespace Platform.Silo.Tls;

/// <summary>Checks the TLS settings against the listen URLs and configures HTTPS, certificate reload and the agent certificate check.</summary>
public static class TlsSetup
{
    /// <summary>Command-line switches of the TLS settings.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>
    {
        ["--tls-cert"] = "Platform:Tls:Cert",
        ["--tls-key"] = "Platform:Tls:Key",
        ["--tls-client-ca"] = "Platform:Tls:ClientCa",
        ["--tls-client-cert"] = "Platform:Tls:ClientCert",
    };

    /// <summary>The default HTTP address when a certificate is configured: loopback only, over TLS.</summary>
    public const string DefaultHttpsUrls = "https://127.0.0.1:8080";

    /// <summary>The listen URLs used when none are given.</summary>
    public static string DefaultUrls(IConfiguration configuration, string plain)
        => string.IsNullOrWhiteSpace(configuration["Platform:Tls:Cert"]) ? plain : DefaultHttpsUrls;

    /// <summary>Applies <paramref name="tls"/>; a setting that cannot work throws a <see cref="StartupException"/> naming it.</summary>
    public static void Configure(WebApplicationBuilder builder, TlsOptions tls)
    {
        var requirement = ParseRequirement(tls);
        var urls = builder.Configuration["urls"] ?? "";
        var httpsUrl = FindHttpsUrl(urls);
        if (string.IsNullOrWhiteSpace(tls.Cert))
        {
            if (httpsUrl is not null)
                throw new StartupException($"--urls (ASPNETCORE_URLS) has {httpsUrl} but no certificate is configured: set {TlsPemFiles.CertSetting} and {TlsPemFiles.KeySetting} to PEM files.");
            if (!string.IsNullOrWhiteSpace(tls.ClientCa) || requirement != ClientCertificateRequirement.None)
                throw new StartupException($"{TlsPemFiles.ClientCaSetting} and Platform:Tls:ClientCert (--tls-client-cert) need HTTPS: set {TlsPemFiles.CertSetting} and {TlsPemFiles.KeySetting} too.");
            return;
        }
        if (httpsUrl is null)
            throw new StartupException($"{TlsPemFiles.CertSetting} is set but no URL in --urls (ASPNETCORE_URLS) is https: '{urls}'; give one such as https://0.0.0.0:8443.");
        if (requirement != ClientCertificateRequirement.None && string.IsNullOrWhiteSpace(tls.ClientCa))
            throw new StartupException($"Platform:Tls:ClientCert (--tls-client-cert) is '{tls.ClientCert}' but {TlsPemFiles.ClientCaSetting} is not set: give the PEM file of the CA that signs agent certificates.");
        if (tls.ReloadCheckInterval < TimeSpan.Zero)
            throw new StartupException($"Platform:Tls:ReloadCheckInterval is {tls.ReloadCheckInterval}; expected a positive time such as 00:01:00, or 00:00:00 for none.");

        TlsServerCertificate server;
        TlsClientCertificateValidator? clientCa = null;
        try
        {
            server = new TlsServerCertificate(Path.GetFullPath(tls.Cert), string.IsNullOrWhiteSpace(tls.Key) ? null : Path.GetFullPath(tls.Key));
            if (requirement != ClientCertificateRequirement.None)
                clientCa = new TlsClientCertificateValidator(Path.GetFullPath(tls.ClientCa!), TimeProvider.System);
        }
        catch (TlsFileException e)
        {
            throw new StartupException(e.Message, e);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(tls);
        builder.Services.AddSingleton(server);
        builder.Services.AddHostedService(s => new TlsCertificateWatcher(server, clientCa, tls, s.GetRequiredService<TimeProvider>(), s.GetRequiredService<ILogger<TlsCertificateWatcher>>()));
        if (clientCa is not null)
        {
            builder.Services.AddSingleton(clientCa);
            builder.Services.AddSingleton(s => new AgentCertificateCheck(clientCa, requirement, s.GetRequiredService<ILogger<AgentCertificateCheck>>()));
            builder.Services.AddTransient<IStartupFilter, AgentCertificateEndpoints.StartupFilter>();
        }
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificateSelector = (_, _) => server.Current;
            if (requirement == ClientCertificateRequirement.None) return;
            // The handshake takes any certificate or none; AgentCertificateCheck decides per endpoint and says why.
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = static (_, _, _) => true;
            https.CheckCertificateRevocation = false;
        }));
    }

    private static ClientCertificateRequirement ParseRequirement(TlsOptions tls)
    {
        if (string.IsNullOrWhiteSpace(tls.ClientCert))
            return string.IsNullOrWhiteSpace(tls.ClientCa) ? ClientCertificateRequirement.None : ClientCertificateRequirement.Required;
        return tls.ClientCert.Trim().ToLowerInvariant() switch
        {
            "required" => ClientCertificateRequirement.Required,
            "optional" => ClientCertificateRequirement.Optional,
            "none" => ClientCertificateRequirement.None,
            _ => throw new StartupException($"Platform:Tls:ClientCert (--tls-client-cert) is '{tls.ClientCert}'; expected 'required', 'optional' or 'none'."),
        };
    }

    private static string? FindHttpsUrl(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) return url;
        return null;
    }
}
