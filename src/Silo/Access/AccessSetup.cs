using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Platform.Grains.Access;
using Platform.Silo.Artifacts;
using Platform.Silo.Hosting;

namespace Platform.Silo.Access;

/// <summary>Registers access control, puts it in the request pipeline, and decides at start whether the silo may serve (docs/security.md).</summary>
public static class AccessSetup
{
    /// <summary>Switches without a value, as configuration settings.</summary>
    public static readonly Dictionary<string, string> Switches = new()
    {
        ["--insecure"] = "--Platform:Access:Insecure=true",
        ["--bootstrap"] = "--Platform:Access:Bootstrap=true",
    };

    public static AccessOptions Configure(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(AccessOptions.Section).Get<AccessOptions>() ?? new AccessOptions();
        if (options.Validate() is { } problem) throw new StartupException(problem);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<AccessControl>();
        builder.Services.AddSingleton<AccessSync>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<Platform.Grains.Rules.IRuleActionAudit>(provider => provider.GetRequiredService<AuditLog>());
        builder.Services.AddSingleton<AgentUploadGate>();
        builder.Services.AddAccessRateLimits(options.RateLimit);
        return options;
    }

    /// <summary>Access checks, then rate limits (which count per token, so after the check), in front of every endpoint.</summary>
    public static void UseAccessControl(this WebApplication app)
    {
        app.UseMiddleware<AccessMiddleware>();
        app.UseRateLimiter();
    }

    /// <summary>
    /// Once Kestrel listens and the runtime runs: reads the tokens (until then every request but health is a 503),
    /// refuses to serve beyond loopback without a token unless told --insecure, makes the bootstrap token if asked.
    /// Returns the bootstrap secret to print once, or null.
    /// </summary>
    public static async Task<string?> StartAsync(WebApplication app)
    {
        var options = app.Services.GetRequiredService<AccessOptions>();
        var access = app.Services.GetRequiredService<AccessControl>();
        var sync = app.Services.GetRequiredService<AccessSync>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(app.Lifetime.ApplicationStopping);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        TokenSet set;
        try
        {
            set = await sync.LoadAsync(timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !app.Lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new StartupException($"the access tokens could not be read from storage: {e.Message}", e);
        }

        string? secret = null;
        if (options.Bootstrap)
        {
            var (id, made) = TokenSecrets.Create();
            var now = DateTimeOffset.UtcNow;
            var change = await sync.Grain.Bootstrap(new AccessToken(id, "bootstrap", TokenSecrets.Hash(made), [AccessScopes.Admin], now, null, null, "bootstrap"));
            access.Apply(change.Set);
            set = change.Set;
            if (change.Token is not null)
            {
                secret = made;
                await app.Services.GetRequiredService<AuditLog>().RecordAsync("bootstrap", "token.create", "bootstrap (admin)", null);
            }
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var beyond = addresses.Where(a => !IsLoopback(a)).ToList();
        var inForce = set.Tokens.Count(t => t.RevokedAt is null);
        if (beyond.Count > 0 && inForce == 0 && !options.Insecure)
            throw new StartupException(
                $"the silo listens on {string.Join(", ", beyond)}, beyond this machine, and no access token exists: anyone who reaches it could change keys and run commands on every node. " +
                "Start it once with --bootstrap to make an admin token (printed once), or make tokens while it listens on 127.0.0.1 only, or pass --insecure to serve it without tokens.");
        access.Loaded(openWhenEmpty: beyond.Count == 0 || options.Insecure);
        sync.StartRenewing();
        app.Lifetime.ApplicationStopping.Register(() => _ = sync.DisposeAsync().AsTask());
        return secret;
    }

    /// <summary>Whether a Kestrel address (http://127.0.0.1:8080, http://[::]:80, http://localhost:5000, http://+:80) accepts only loopback clients.</summary>
    public static bool IsLoopback(string address)
    {
        var start = address.IndexOf("://", StringComparison.Ordinal);
        var host = start < 0 ? address : address[(start + 3)..];
        var end = host.StartsWith('[') ? host.IndexOf(']') + 1 : host.IndexOf(':');
        if (end > 0) host = host[..end];
        host = host.TrimEnd('/').Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
