using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;
using Platform.Silo.Tests.Telemetry;

namespace Platform.Silo.Tests.Access;

/// <summary>Tokens against the real silo process: etcdctl, the consul npm client, curl-style HTTP, the CLI and an agent.</summary>
public sealed class AccessProcessTests(AccessSilo access) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task Etcdctl_with_a_read_token_reads_and_is_refused_a_write_naming_the_missing_scope()
    {
        var writer = await access.CreateAsync("etcd-writer", ["keys:write"]);
        var reader = await access.CreateAsync("etcd-reader", ["keys:read"]);
        var set = await access.EtcdctlAsync($"etcd-writer:{writer}", "set", "/etcd/a", "one");
        Assert.True(set.ExitCode == 0, set.ToString());

        var get = await access.EtcdctlAsync($"etcd-reader:{reader}", "get", "/etcd/a");
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal("one", get.StdOut.Trim());

        var refused = await access.EtcdctlAsync($"etcd-reader:{reader}", "set", "/etcd/a", "two");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("token 'etcd-reader' lacks scope 'keys:write' for key '/etcd/a'", refused.StdErr);
        Assert.Equal("one", (await access.EtcdctlAsync($"etcd-reader:{reader}", "get", "/etcd/a")).StdOut.Trim());
    }

    [Fact]
    public async Task Etcdctl_is_refused_with_no_malformed_wrong_revoked_and_expired_tokens_each_saying_why()
    {
        var good = await access.CreateAsync("etcd-good", ["keys:write"]);
        var revoked = await access.CreateAsync("etcd-revoked", ["keys:read"]);
        await access.RevokeAsync("etcd-revoked");
        var expiring = await access.CreateAsync("etcd-expiring", ["keys:read"], expiresIn: "1s");

        async Task Refused(string? user, string expected)
        {
            var result = await access.EtcdctlAsync(user, "get", "/etcd/missing");
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("110: The request requires user authentication", result.StdErr);
            Assert.Contains(expected, result.StdErr);
        }

        await Refused(null, "a token is required for key '/etcd/missing' (scope 'keys:read') and none was sent");
        await Refused("etcd-good:not-a-token", "the token is malformed");
        var wrong = good[..^4] + (good[^4..] == "AAAA" ? "BBBB" : "AAAA");
        await Refused($"etcd-good:{wrong}", "the token is not valid");
        await Refused($"someone-else:{good}", "user name 'someone-else' is not the token's name");
        await Refused($"etcd-revoked:{revoked}", "token 'etcd-revoked' was revoked at");

        // The silo's clock decides expiry: poll until the one-second token has run out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ProcessResult last;
        while (true)
        {
            last = await access.EtcdctlAsync($"etcd-expiring:{expiring}", "get", "/etcd/missing");
            if (last.StdErr.Contains("token 'etcd-expiring' expired at", StringComparison.Ordinal)) break;
            Assert.True(DateTime.UtcNow < deadline, $"the token never expired: {last}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_keys_token_limited_to_a_prefix_writes_inside_it_on_both_apis_and_is_refused_outside()
    {
        var ci = await access.CreateAsync("ci", ["keys:write:/build/"]);
        using (var inside = await access.SendAsync(HttpMethod.Put, "/v2/keys/build/notify", ci, Form("value=go")))
            Assert.Equal(HttpStatusCode.Created, inside.StatusCode);
        using (var consul = await access.SendAsync(HttpMethod.Put, "/v1/kv/build/consul", ci, new StringContent("x")))
            Assert.Equal(HttpStatusCode.OK, consul.StatusCode);
        using (var outside = await access.SendAsync(HttpMethod.Put, "/v2/keys/deploy/notify", ci, Form("value=go")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
            Assert.Contains("lacks scope 'keys:write' for key '/deploy/notify'", await outside.Content.ReadAsStringAsync());
        }
        // A recursive read of everything is not "under /build/".
        using (var all = await access.SendAsync(HttpMethod.Get, "/v1/kv/?recurse", ci))
            Assert.Equal(HttpStatusCode.Forbidden, all.StatusCode);
        using (var read = await access.SendAsync(HttpMethod.Get, "/v2/keys/build/notify", ci))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task The_consul_npm_client_with_a_token_writes_and_reads_and_is_refused_without_one_or_without_the_scope()
    {
        var writer = await access.CreateAsync("consul-writer", ["keys:write:/consul/"]);
        var reader = await access.CreateAsync("consul-reader", ["keys:read"]);
        using var dir = new TempDir();
        foreach (var file in new[] { "package.json", "package-lock.json", "consul-token.js" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Consul", "node", file), Path.Combine(dir.Path, file));
        var (npmExit, npmOutput) = await NodeJs.RunAsync("npm", dir.Path, TimeSpan.FromMinutes(2), "ci", "--no-audit", "--no-fund", "--prefer-offline");
        Assert.True(npmExit == 0, $"npm ci exited with {npmExit}:\n{npmOutput}");

        async Task<Dictionary<string, JsonElement>> Run(string token)
        {
            var (exit, output) = await NodeJs.RunAsync("node", dir.Path, TimeSpan.FromSeconds(60), "consul-token.js", access.Silo.Port.ToString(CultureInfo.InvariantCulture), "consul/key", token);
            Assert.True(exit == 0, output);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{'))
                .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToDictionary(e => e.GetProperty("step").GetString()!);
        }

        var ok = await Run(writer);
        Assert.True(ok["write"].GetProperty("ok").GetBoolean(), ok["write"].ToString());
        Assert.True(ok["read"].GetProperty("ok").GetBoolean(), ok["read"].ToString());

        var none = await Run("-");
        Assert.Equal(401, none["write"].GetProperty("status").GetInt32());
        Assert.Equal(401, none["read"].GetProperty("status").GetInt32());

        var readOnly = await Run(reader);
        Assert.Equal(403, readOnly["write"].GetProperty("status").GetInt32());
        Assert.True(readOnly["read"].GetProperty("ok").GetBoolean(), readOnly["read"].ToString());
    }

    [Fact]
    public async Task The_platform_command_creates_lists_and_revokes_tokens_and_a_revoked_token_is_refused()
    {
        var created = await access.PlatformAsync(access.Admin, "token", "create", "-name", "cli-made", "-scope", "nodes:read", "-expires-in", "720h", "-format", "json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var secret = JsonDocument.Parse(created.StdOut).RootElement.GetProperty("secret").GetString()!;
        access.Secrets["token 'cli-made'"] = secret;

        // The new token works through --token, which wins over PLATFORM_TOKEN.
        var members = await access.PlatformAsync("", "members", "--token", secret);
        Assert.True(members.ExitCode == 0, members.ToString());

        var listed = await access.PlatformAsync(access.Admin, "token", "list");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("cli-made", listed.StdOut);
        Assert.Contains("nodes:read", listed.StdOut);
        Assert.DoesNotContain(secret, listed.StdOut);

        var notAdmin = await access.PlatformAsync(secret, "token", "list");
        Assert.Equal(1, notAdmin.ExitCode);
        Assert.Contains("token 'cli-made' lacks scope 'admin'", notAdmin.StdErr);
        Assert.Contains("HTTP 403", notAdmin.StdErr);

        var revoked = await access.PlatformAsync(access.Admin, "token", "revoke", "cli-made");
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains("Token 'cli-made'", revoked.StdOut);

        var after = await access.PlatformAsync(secret, "members");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("token 'cli-made' was revoked", after.StdErr);
        Assert.Contains("HTTP 401", after.StdErr);

        var none = await access.PlatformAsync("", "members");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("none was sent", none.StdErr);

        var badScope = await access.PlatformAsync(access.Admin, "token", "create", "-name", "typo", "-scope", "keys:wrtie");
        Assert.Equal(1, badScope.ExitCode);
        Assert.Contains("scope 'keys:wrtie' is not known", badScope.StdErr);
    }

    [Fact]
    public async Task An_agent_without_a_token_is_refused_and_stops_and_one_with_scope_agent_joins()
    {
        using var dir = new TempDir();
        var nodesOnly = await access.CreateAsync("agent-wrong", ["nodes:read"]);
        var agentToken = await access.CreateAsync("agent-right", ["agent"]);
        var env = new Dictionary<string, string> { ["PLATFORM_TOKEN"] = "", ["DOTNET_gcServer"] = "0" };
        string[] Args(string node, params string[] more) =>
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-node", node, "-server", access.Url.ToString(), "-data-dir", Path.Combine(dir.Path, node), .. more];

        await using (var none = CapturedProcess.Start("dotnet", Args("no-token"), env))
        {
            var result = await none.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("access refused (HTTP 401): a token is required for scope 'agent'", result.StdErr);
        }
        await using (var wrong = CapturedProcess.Start("dotnet", Args("wrong-token", "-token", nodesOnly), env))
        {
            var result = await wrong.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("token 'agent-wrong' lacks scope 'agent'", result.StdErr);
        }

        await using var right = CapturedProcess.Start("dotnet", Args("with-token", "-token", agentToken), env);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var node = await access.SendAsync(HttpMethod.Get, "/v1/nodes/with-token", access.Admin);
            if (node.IsSuccessStatusCode && (await node.Content.ReadAsStringAsync()).Contains("\"status\":\"alive\"", StringComparison.Ordinal)) break;
            Assert.False(right.Exited.IsCompleted, $"the agent exited: {right.StdErr.Text}");
            Assert.True(DateTime.UtcNow < deadline, $"the agent never joined: {right.StdErr.Text}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Rules_are_read_with_nodes_read_changed_only_with_admin_and_their_changes_are_audited()
    {
        var reader = await access.CreateAsync("rule-reader", ["nodes:read", "events:fire"]);
        static StringContent Rule() => new("""{"name":"audited","trigger":{"type":"user_event","name":"built"},"actions":[{"type":"set_key","key":"/audited","value":"{{payload}}"}]}""",
            Encoding.UTF8, "application/json");
        using (var denied = await access.SendAsync(HttpMethod.Post, "/v1/rules", reader, Rule()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Contains("token 'rule-reader' lacks scope 'admin'", await denied.Content.ReadAsStringAsync());
        }
        using (var added = await access.SendAsync(HttpMethod.Post, "/v1/rules", access.Admin, Rule()))
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using (var listed = await access.SendAsync(HttpMethod.Get, "/v1/rules", reader))
            Assert.Contains("\"audited\"", await listed.Content.ReadAsStringAsync());
        using (var removed = await access.SendAsync(HttpMethod.Delete, "/v1/rules/audited", access.Admin))
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());

        var entries = await access.AuditAsync();
        Assert.Contains(entries, e => e.StartsWith("admin rule.add rule-", StringComparison.Ordinal) && e.EndsWith(" audited (user_event → set_key)", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.StartsWith("admin rule.remove rule-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refusals_are_counted_by_missing_scope_and_fired_events_and_token_changes_are_audited()
    {
        var firer = await access.CreateAsync("firer", ["events:fire"]);
        var before = await Refused();
        var metricsBefore = await MetricsTests.ScrapeAsync(access.Silo, access.Admin);
        using (var fired = await access.SendAsync(HttpMethod.Post, "/v1/events/deploy", firer, new StringContent("v42")))
            Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
        using (var denied = await access.SendAsync(HttpMethod.Post, "/v1/queries/uptime", firer, new StringContent("")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Contains("token 'firer' lacks scope 'query'", await denied.Content.ReadAsStringAsync());
        }
        using (var anonymous = await access.SendAsync(HttpMethod.Get, "/v1/nodes", null))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var after = await Refused();
        Assert.Equal(before.Forbidden + 1, after.Forbidden);
        Assert.Equal(before.Query + 1, after.Query);
        Assert.Equal(before.Unauthenticated + 1, after.Unauthenticated);
        const string Forbidden = "platform_access_refused_total{reason=forbidden}", Unauthenticated = "platform_access_refused_total{reason=unauthenticated}";
        await MetricsTests.PollAsync(access.Silo, s => s[Forbidden] == metricsBefore[Forbidden] + 1 && s[Unauthenticated] == metricsBefore[Unauthenticated] + 1, access.Admin);

        var entries = await access.AuditAsync();
        Assert.Contains("firer event.fire /v1/events/deploy", entries);
        Assert.Contains("admin token.create firer (events:fire)", entries);
        Assert.Contains("anonymous token.create admin (admin)", entries);
        Assert.DoesNotContain(entries, e => e.Contains("query.run", StringComparison.Ordinal) && e.StartsWith("firer", StringComparison.Ordinal));
    }

    private async Task<(long Unauthenticated, long Forbidden, long Query)> Refused()
    {
        using var response = await access.SendAsync(HttpMethod.Get, "/v1/cluster", access.Admin);
        var refused = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("accessRefused");
        var byScope = refused.GetProperty("forbiddenByScope");
        return (refused.GetProperty("unauthenticated").GetInt64(), refused.GetProperty("forbidden").GetInt64(),
            byScope.TryGetProperty("query", out var q) ? q.GetInt64() : 0);
    }

    private static StringContent Form(string body) => new(body, Encoding.UTF8, "application/x-www-form-urlencoded");
}
