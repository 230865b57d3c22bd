using System.Security.Cryptography.X509Certificates;
using Platform.Silo.Access;

namespace Platform.Silo.Tls;

/// <summary>
/// Lets an agent connection in only with a client certificate signed by the CA of Platform:Tls:ClientCa, and otherwise
/// answers 403 with the reason and logs a warning naming the remote address. The TLS handshake itself accepts any
/// certificate, or none, so that the refusal can be explained.
/// </summary>
public sealed partial class AgentCertificateCheck(
    TlsClientCertificateValidator validator, ClientCertificateRequirement requirement, ILogger<AgentCertificateCheck> logger)
{
    /// <summary>The first words of every refusal's body.</summary>
    public const string Refusal = "agent connections need a client certificate signed by the configured CA (Platform:Tls:ClientCa)";

    private static readonly object s_passed = new();

    /// <summary>Null when the connection may go on; otherwise why it may not.</summary>
    public async ValueTask<string?> CheckAsync(HttpContext context)
    {
        var certificate = !context.Request.IsHttps ? null
            : context.Connection.ClientCertificate ?? await context.Connection.GetClientCertificateAsync(context.RequestAborted);
        if (certificate is not null) return validator.Validate(certificate);
        if (requirement != ClientCertificateRequirement.Required) return null;
        return context.Request.IsHttps ? "no client certificate was sent" : "the connection is plain HTTP, which carries no client certificate";
    }

    /// <summary>Runs the check once per request: true to go on; false after answering 403.</summary>
    public async ValueTask<bool> EnforceAsync(HttpContext context)
    {
        if (context.Items.ContainsKey(s_passed)) return true;
        var reason = await CheckAsync(context);
        if (reason is null)
        {
            context.Items[s_passed] = s_passed;
            return true;
        }
        LogRefused(context.Connection.RemoteIpAddress?.ToString() ?? "an unknown address", context.Connection.RemotePort, reason);
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        // A WebSocket client sees the refused upgrade's headers, not its body: the agent says why from this one.
        context.Response.Headers["X-Platform-Denied"] = HeaderText.Safe($"{Refusal}: {reason}");
        await context.Response.WriteAsync($"{Refusal}: {reason}\n", context.RequestAborted);
        return false;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "agent connection from {RemoteAddress}:{RemotePort} refused: {Reason}")]
    private partial void LogRefused(string remoteAddress, int remotePort, string reason);
}
