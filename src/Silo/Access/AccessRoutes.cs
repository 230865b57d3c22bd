using Platform.Grains.Access;
using Platform.Grains.Keys;
using Platform.Protocol;
using Platform.Silo.Artifacts;
using Platform.Silo.Dashboard;
using Platform.Silo.Endpoints.Consul;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Access;

/// <summary>Which API a request belongs to: it decides where a token may come from and the shape of a refusal.</summary>
public enum AccessApi
{
    /// <summary>Platform's own API: Bearer tokens, <c>{"error":"..."}</c>.</summary>
    Platform,

    /// <summary>etcd's v2 API: also basic auth, etcd's error JSON.</summary>
    Etcd,

    /// <summary>Consul's API: also <c>X-Consul-Token</c> and <c>?token=</c>, plain-text errors.</summary>
    Consul,
}

/// <summary>
/// What a request needs: no token at all (health), or a scope, on a key for the keys scopes, and what is audited.
/// <see cref="AgentUpload"/>: an artifact write that a token of scope <c>agent</c> may also make, under a build it runs.
/// </summary>
public readonly record struct AccessRequirement(string? Scope, string? Key, AccessApi Api, string? AuditAction, bool AgentUpload = false)
{
    public static readonly AccessRequirement None = new(null, null, AccessApi.Platform, null);
}

/// <summary>
/// The scope each route needs (docs/security.md has the table). Routes not listed need <c>admin</c>, so an endpoint
/// added later is closed until it is given a scope here.
/// </summary>
public static class AccessRoutes
{
    /// <summary>Build jobs upload what they made; deploys upload and remove what they ship.</summary>
    public const string ArtifactWriters = AccessScopes.Build + AccessScopes.Alternative + AccessScopes.Deploy;

    /// <summary>Agents fetch a manifest's <c>src</c>; whoever may see the fleet, build or deploy may read too.</summary>
    public const string ArtifactReaders = AccessScopes.Agent + AccessScopes.Alternative + AccessScopes.NodesRead + AccessScopes.Alternative
        + AccessScopes.Build + AccessScopes.Alternative + AccessScopes.Deploy;

    public static AccessRequirement For(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var method = request.Method;
        var read = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

        if (path.StartsWith("/health/", StringComparison.Ordinal) || path is "/health" or "/version") return AccessRequirement.None;
        // The dashboard's page and files hold no data: it asks for a token and sends it with every API call.
        if (path == "/" || Under(path, DashboardEndpoints.AssetPrefix)) return AccessRequirement.None;

        if (Under(path, "/v2/keys"))
        {
            return new(read ? AccessScopes.KeysRead : AccessScopes.KeysWrite, EtcdKey(request), AccessApi.Etcd, null);
        }
        if (Under(path, "/v2/members")) return new(AccessScopes.KeysRead, null, AccessApi.Etcd, null);
        if (Under(path, "/v1/kv"))
        {
            // Consul's prefixes are string prefixes of the key as given: "app/" asks for everything under /app/.
            return new(read ? AccessScopes.KeysRead : AccessScopes.KeysWrite, ConsulKey(context), AccessApi.Consul, null);
        }

        if (path == AgentProtocol.ConnectPath) return new(AccessScopes.Agent, null, AccessApi.Platform, null);
        // Registering a check changes what runs on a node, as tags and leaves change it: nodes:write; the endpoints audit it.
        if (path == "/v1/agent/check/register" || path.StartsWith("/v1/agent/check/deregister/", StringComparison.Ordinal))
            return new(AccessScopes.NodesWrite, null, AccessApi.Consul, null);
        if (path.StartsWith("/v1/agent/check/", StringComparison.Ordinal)) return new(AccessScopes.Agent, null, AccessApi.Consul, null);
        if (Under(path, "/v1/event/fire")) return new(AccessScopes.EventsFire, null, AccessApi.Consul, "event.fire");
        if (Under(path, "/v1/event") || Under(path, "/v1/agent/members") || Under(path, "/v1/catalog") || Under(path, "/v1/health"))
            return new(read ? AccessScopes.NodesRead : AccessScopes.Admin, null, AccessApi.Consul, null);

        if (Under(path, "/v1/events")) return read ? new(AccessScopes.NodesRead, null, AccessApi.Platform, null) : new(AccessScopes.EventsFire, null, AccessApi.Platform, "event.fire");
        if (Under(path, "/v1/queries")) return new(AccessScopes.Query, null, AccessApi.Platform, "query.run");
        if (Under(path, "/v1/nodes") && !read && IsNodeChecks(path)) return new(AccessScopes.NodesWrite, null, AccessApi.Platform, null);
        // The builds a node ran are read as builds are: scope build.
        if (Under(path, "/v1/nodes") && read && IsNodePart(path, "jobs")) return new(AccessScopes.Build, null, AccessApi.Platform, null);
        if (Under(path, "/v1/nodes")) return read ? new(AccessScopes.NodesRead, null, AccessApi.Platform, null) : new(AccessScopes.NodesWrite, null, AccessApi.Platform, "node.change");
        if (Under(path, "/v1/deploys"))
        {
            if (read) return new(AccessScopes.NodesRead, null, AccessApi.Platform, null);
            // A start is audited by the endpoint, which knows the new deploy's id; a cancel's path names its deploy.
            return new(AccessScopes.Deploy, null, AccessApi.Platform, HttpMethods.IsDelete(method) ? "deploy.cancel" : null);
        }
        if (Under(path, "/v1/monitor") || Under(path, "/v1/cluster") || path == "/metrics") return new(AccessScopes.NodesRead, null, AccessApi.Platform, null);
        if (path == AccessEndpoints.WhoAmIPath) return new(AccessControl.AnyScope, null, AccessApi.Platform, null);
        if (Under(path, "/v1/access")) return new(AccessScopes.Admin, null, AccessApi.Platform, null);
        if (Under(path, ArtifactEndpoints.Prefix))
        {
            if (read) return new(ArtifactReaders, null, AccessApi.Platform, null);
            if (HttpMethods.IsDelete(method)) return new(ArtifactWriters, null, AccessApi.Platform, "artifact.delete");
            return new(ArtifactWriters, null, AccessApi.Platform, "artifact.put", AgentUpload: HttpMethods.IsPut(method));
        }
        // Rules run actions (deploys, events that run handlers) as the silo: changing one is an admin's; changes are audited by the endpoints.
        if (Under(path, "/v1/rules")) return new(read ? AccessScopes.NodesRead : AccessScopes.Admin, null, AccessApi.Platform, null);
        // Push hooks carry no token: the repository's signature is checked instead; they are rate limited as writes.
        if (path.StartsWith("/hooks/", StringComparison.Ordinal)) return AccessRequirement.None;
        // A repository holds its hook secret: changing one is for admins; builds and the queue need scope build.
        if (Under(path, "/v1/repos")) return new(read ? AccessScopes.Build : AccessScopes.Admin, null, AccessApi.Platform, read ? null : "repo.change");
        if (Under(path, "/v1/builds") || Under(path, "/v1/queue")) return new(AccessScopes.Build, null, AccessApi.Platform, null);
        return new(AccessScopes.Admin, null, AccessApi.Platform, null);
    }

    /// <summary>The keyspace key as the etcd handler will read it; null when it cannot be read (the handler answers that error, and a prefix scope does not match).</summary>
    private static string? EtcdKey(HttpRequest request)
    {
        try
        {
            return KeyPath.TryNormalize(EtcdEndpoints.RawKey(EtcdForm.RawPath(request)), out var normal, out _) ? normal : null;
        }
        catch (KeyException)
        {
            return null;
        }
    }

    /// <summary>The Consul key with a leading slash, as the Consul handler decodes it; null when it cannot be decoded.</summary>
    private static string? ConsulKey(HttpContext context)
    {
        try
        {
            return "/" + ConsulKvRequest.DecodeKey(context, "/v1/kv");
        }
        catch (ConsulKvException)
        {
            return null;
        }
    }

    /// <summary><c>/v1/nodes/{name}/checks[/{id}]</c>: audited by the endpoint, which names the node and the check.</summary>
    private static bool IsNodeChecks(string path) => IsNodePart(path, "checks");

    /// <summary>Whether <paramref name="path"/> is <c>/v1/nodes/{name}/{part}</c> or under it.</summary>
    private static bool IsNodePart(string path, string part)
    {
        var parts = path.Split('/', 6);
        return parts.Length >= 5 && parts[4] == part;
    }

    private static bool Under(string path, string prefix)
        => path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/');
}
