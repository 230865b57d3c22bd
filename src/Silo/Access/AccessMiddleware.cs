using System.Buffers;
using Platform.Grains.Access;
using Platform.Grains.Keys;
using Platform.Silo.Artifacts;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Access;

/// <summary>
/// Checks every request against <see cref="AccessControl"/> before it reaches an endpoint: takes the token from where
/// the request's API puts it, answers a refusal in that API's shape (401 or 403 naming the missing scope), logs it
/// without the secret, and audits what <see cref="AccessRoutes"/> says is audited.
/// </summary>
public sealed partial class AccessMiddleware(RequestDelegate next, AccessControl access, AuditLog audit, AgentUploadGate uploads, ILogger<AccessMiddleware> logger)
{
    private const string ActorItem = "platform.access.actor";

    /// <summary>The token name that made the request (<c>anonymous</c> on an open silo; null before the check ran).</summary>
    public static string ActorOf(HttpContext context) => context.Items.TryGetValue(ActorItem, out var actor) && actor is string name ? name : AccessControl.Anonymous;

    /// <summary>Whether the request carried a token that was accepted (false on an open silo).</summary>
    public static bool HasToken(HttpContext context) => context.Items.TryGetValue(ActorItem, out var actor) && actor is string name && name != AccessControl.Anonymous;

    public async Task InvokeAsync(HttpContext context)
    {
        var requirement = AccessRoutes.For(context);
        if (requirement.Scope is not { } scope)
        {
            await next(context);
            return;
        }
        var decision = Decide(context, requirement, scope, count: !requirement.AgentUpload);
        if (requirement.AgentUpload && !decision.Allowed)
        {
            if (decision.Status == 403) decision = await AgentUploadAsync(context, requirement, decision);
            access.Refused(decision);
        }
        if (!decision.Allowed)
        {
            LogDenied(logger, decision.Status, context.Request.Method, context.Request.Path.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "-", decision.Message ?? "");
            await RefuseAsync(context, requirement.Api, decision);
            return;
        }
        context.Items[ActorItem] = decision.Actor;
        await next(context);
        if (requirement.AuditAction is { } action && context.Response.StatusCode < 400)
            await audit.RecordAsync(context, action, context.Request.Path.Value ?? "");
    }

    /// <summary>
    /// An artifact write refused for lack of <c>build</c> or <c>deploy</c>: a token of scope <c>agent</c> may still write
    /// under a build that an agent connected with it is running (<see cref="AgentUploadGate"/>); otherwise the refusal says so.
    /// </summary>
    private async Task<AccessDecision> AgentUploadAsync(HttpContext context, AccessRequirement requirement, AccessDecision refused)
    {
        var agent = Decide(context, requirement, AccessScopes.Agent, count: false);
        if (!agent.Allowed) return refused;
        var name = ArtifactEndpoints.RequestedName(context);
        try
        {
            if (await uploads.AllowsAsync(agent.Actor, name)) return agent;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The build's grain did not answer (its silo just died): not a refusal, the agent's upload may be tried again.
            LogUploadCheckFailed(logger, agent.Actor, name, e.Message);
            return new AccessDecision(503, "the silo could not check which builds this agent's token runs now; retry in a moment", agent.Actor, refused.Scope);
        }
        return AccessDecision.Forbidden(AgentUploadGate.Refusal(agent.Actor, name), agent.Actor, refused.Scope);
    }

    private AccessDecision Decide(HttpContext context, AccessRequirement requirement, string scope, bool count = true)
    {
        var request = context.Request;
        var header = request.Headers.Authorization.ToString();
        Credential? credential = null;
        if (header.Length != 0)
        {
            credential = Credential.FromAuthorization(header, out var problem);
            if (problem is not null && !access.IsOpen) return access.Authorize(header, scope, requirement.Key, count);
        }
        if (credential is null && requirement.Api == AccessApi.Consul)
        {
            var consul = request.Headers["X-Consul-Token"].ToString();
            if (consul.Length == 0) consul = request.Query["token"].ToString();
            if (consul.Length != 0) credential = new Credential(consul, null);
        }
        return access.Authorize(credential, scope, requirement.Key, count);
    }

    private static async Task RefuseAsync(HttpContext context, AccessApi api, AccessDecision decision)
    {
        var response = context.Response;
        response.StatusCode = decision.Status;
        var message = decision.Message ?? "refused";
        if (decision.Status == 401 && message.EndsWith("none was sent", StringComparison.Ordinal))
        {
            message += api switch
            {
                AccessApi.Etcd => " (etcd clients: basic auth with the token's name and secret, etcdctl --username NAME:SECRET)",
                AccessApi.Consul => " (Consul clients: the X-Consul-Token header or ?token=)",
                _ => " (send 'Authorization: Bearer <token>'; the CLI reads --token or PLATFORM_TOKEN)",
            };
        }
        // The agent's WebSocket client sees headers only, not the body: the reason goes in a header too.
        response.Headers["X-Platform-Denied"] = HeaderText.Safe(message);
        if (decision.Status == 401)
            response.Headers.WWWAuthenticate = api == AccessApi.Etcd ? "Basic realm=\"etcd\"" : "Bearer realm=\"platform\"";
        switch (api)
        {
            case AccessApi.Etcd:
                response.ContentType = "application/json";
                var body = new ArrayBufferWriter<byte>(256);
                EtcdJson.WriteError(body, KeyErrorCode.Unauthorized, message, 0);
                await response.Body.WriteAsync(body.WrittenMemory);
                break;
            case AccessApi.Consul:
                // Consul answers "Permission denied" and "ACL not found"; the reason follows.
                response.ContentType = "text/plain; charset=utf-8";
                await response.WriteAsync((decision.Status == 403 ? "Permission denied: " : "ACL not found: ") + message + "\n");
                break;
            default:
                await response.WriteAsJsonAsync(new { error = message });
                break;
        }
    }

    /// <summary>Header values must be visible ASCII: anything else (a key's name may hold it) becomes '?'.</summary>
    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "access: refused {Status} {Method} {Path} from {Address}: {Reason}")]
    private static partial void LogDenied(ILogger logger, int status, string method, string path, string address, string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "access: could not check whether token {Token} runs a job of a build for artifact {Name}: {Error}")]
    private static partial void LogUploadCheckFailed(ILogger logger, string token, string? name, string error);
}
