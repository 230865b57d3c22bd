using Microsoft.AspNetCore.Http;
using Platform.Silo.Access;

namespace Platform.Silo.Tests.Access;

/// <summary>The route → scope table (docs/security.md): every family of routes, reads and writes, and what is audited.</summary>
public sealed class AccessRoutesTests
{
    [Theory]
    // Health, version and the dashboard's files need no token.
    [InlineData("GET", "/health/ready", null, "Platform", null)]
    [InlineData("GET", "/version", null, "Platform", null)]
    [InlineData("GET", "/", null, "Platform", null)]
    [InlineData("GET", "/ui/app.js", null, "Platform", null)]
    // etcd and Consul keys, with the key the scope is checked against.
    [InlineData("GET", "/v2/keys/app/a", "keys:read", "Etcd", null, "/app/a")]
    [InlineData("PUT", "/v2/keys/app/a", "keys:write", "Etcd", null, "/app/a")]
    [InlineData("GET", "/v2/members", "keys:read", "Etcd", null)]
    [InlineData("GET", "/v1/kv/app/", "keys:read", "Consul", null, "/app/")]
    [InlineData("DELETE", "/v1/kv/app/a", "keys:write", "Consul", null, "/app/a")]
    // Agents and Consul's agent, event and catalog APIs.
    [InlineData("GET", "/v1/agent/connect", "agent", "Platform", null)]
    [InlineData("PUT", "/v1/agent/check/pass/web", "agent", "Consul", null)]
    // Registering a check changes what runs on a node; the endpoints audit it (they know the node and the check).
    [InlineData("PUT", "/v1/agent/check/register", "nodes:write", "Consul", null)]
    [InlineData("PUT", "/v1/agent/check/deregister/web", "nodes:write", "Consul", null)]
    [InlineData("PUT", "/v1/nodes/web1/checks", "nodes:write", "Platform", null)]
    [InlineData("DELETE", "/v1/nodes/web1/checks/web", "nodes:write", "Platform", null)]
    // A node's history: its deploys as deploys are read, the build jobs it ran as builds are.
    [InlineData("GET", "/v1/nodes/web1/deploys", "nodes:read", "Platform", null)]
    [InlineData("GET", "/v1/nodes/web1/jobs", "build", "Platform", null)]
    [InlineData("PUT", "/v1/event/fire/deploy", "events:fire", "Consul", "event.fire")]
    [InlineData("GET", "/v1/event/list", "nodes:read", "Consul", null)]
    [InlineData("GET", "/v1/agent/members", "nodes:read", "Consul", null)]
    [InlineData("GET", "/v1/catalog/nodes", "nodes:read", "Consul", null)]
    [InlineData("GET", "/v1/health/node/web1", "nodes:read", "Consul", null)]
    [InlineData("PUT", "/v1/catalog/register", "admin", "Consul", null)]
    // The fleet: events, queries, nodes.
    [InlineData("GET", "/v1/events", "nodes:read", "Platform", null)]
    [InlineData("POST", "/v1/events/deploy", "events:fire", "Platform", "event.fire")]
    [InlineData("POST", "/v1/queries/uptime", "query", "Platform", "query.run")]
    [InlineData("GET", "/v1/nodes/web1", "nodes:read", "Platform", null)]
    [InlineData("PUT", "/v1/nodes/web1/tags", "nodes:write", "Platform", "node.change")]
    // Deploys: a start is audited by its endpoint (it knows the new id), a cancel by the route.
    [InlineData("GET", "/v1/deploys/d1", "nodes:read", "Platform", null)]
    [InlineData("POST", "/v1/deploys", "deploy", "Platform", null)]
    [InlineData("DELETE", "/v1/deploys/d1", "deploy", "Platform", "deploy.cancel")]
    // Watching the cluster.
    [InlineData("GET", "/v1/monitor", "nodes:read", "Platform", null)]
    [InlineData("GET", "/v1/cluster", "nodes:read", "Platform", null)]
    [InlineData("GET", "/metrics", "nodes:read", "Platform", null)]
    // Tokens: whoami takes any token; the rest is an admin's.
    [InlineData("GET", "/v1/access/whoami", "", "Platform", null)]
    [InlineData("POST", "/v1/access/tokens", "admin", "Platform", null)]
    [InlineData("GET", "/v1/access/audit", "admin", "Platform", null)]
    // Artifacts.
    [InlineData("GET", "/v1/artifacts/b1/app.tar", AccessRoutes.ArtifactReaders, "Platform", null)]
    [InlineData("PUT", "/v1/artifacts/b1/app.tar", AccessRoutes.ArtifactWriters, "Platform", "artifact.put")]
    [InlineData("DELETE", "/v1/artifacts/b1/app.tar", AccessRoutes.ArtifactWriters, "Platform", "artifact.delete")]
    // Rules, hooks, repositories, builds and the queue.
    [InlineData("GET", "/v1/rules", "nodes:read", "Platform", null)]
    [InlineData("POST", "/v1/rules", "admin", "Platform", null)]
    [InlineData("POST", "/hooks/github", null, "Platform", null)]
    [InlineData("GET", "/v1/repos/team/app", "build", "Platform", null)]
    [InlineData("PUT", "/v1/repos/team/app", "admin", "Platform", "repo.change")]
    [InlineData("POST", "/v1/builds", "build", "Platform", null)]
    [InlineData("POST", "/v1/builds/team/app/1/cancel", "build", "Platform", null)]
    [InlineData("GET", "/v1/queue", "build", "Platform", null)]
    // Anything not listed is an admin's, so a new endpoint is closed until it is given a scope.
    [InlineData("GET", "/v1/something-new", "admin", "Platform", null)]
    [InlineData("GET", "/v1/eventsx", "admin", "Platform", null)]
    public void Each_route_needs_its_scope_on_its_api_and_names_its_audit_action(string method, string path, string? scope, string api, string? audit, string? key = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;

        var requirement = AccessRoutes.For(context);

        Assert.Equal((scope, key, Enum.Parse<AccessApi>(api), audit), (requirement.Scope, requirement.Key, requirement.Api, requirement.AuditAction));
        Assert.Equal(method == "PUT" && path.StartsWith("/v1/artifacts/", StringComparison.Ordinal), requirement.AgentUpload);
    }
}
