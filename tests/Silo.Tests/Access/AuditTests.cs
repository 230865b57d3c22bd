using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.Protocol;
using Platform.Silo.Tests.Builds;

namespace Platform.Silo.Tests.Access;

/// <summary>Deploys, builds and token changes on a silo with tokens leave audit entries naming who did them.</summary>
public sealed class AuditTests(AccessSilo access) : IClassFixture<AccessSilo>
{
    private const string Manifest = "src: file:///nonexistent/app.tar\ndest: /tmp/never\n";

    [Fact]
    public async Task Deploys_started_and_cancelled_with_a_token_or_started_by_a_rule_are_audited_naming_who()
    {
        await using var agent = await access.ConnectNodeAsync("audit-node");
        var deployer = await access.CreateAsync("deployer", ["deploy"]);
        string id;
        using (var started = await access.SendAsync(HttpMethod.Post, "/v1/deploys", deployer, JsonContent.Create(new { manifest = Manifest, target = new { nodes = new[] { "audit-node" } } })))
        {
            var body = await started.Content.ReadAsStringAsync();
            Assert.True(started.StatusCode == HttpStatusCode.Created, body);
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        await agent.WaitForAsync<DeployFrame>(d => d.DeployId == id, TimeSpan.FromSeconds(30));
        using (var cancelled = await access.SendAsync(HttpMethod.Delete, $"/v1/deploys/{id}", deployer))
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync());

        var rule = """{"name":"audit-ship","trigger":{"type":"user_event","name":"audit-ship"},"actions":[{"type":"start_deploy","manifest":"src: file:///nonexistent/app.tar\ndest: /tmp/never\n","target":{"nodes":["audit-node"]}}]}""";
        string ruleId;
        using (var added = await access.SendAsync(HttpMethod.Post, "/v1/rules", access.Admin, new StringContent(rule, Encoding.UTF8, "application/json")))
        {
            var body = await added.Content.ReadAsStringAsync();
            Assert.True(added.StatusCode == HttpStatusCode.Created, body);
            ruleId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        using (var fired = await access.SendAsync(HttpMethod.Post, "/v1/events/audit-ship", access.Admin, new StringContent("")))
            Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
        var ruled = await agent.WaitForAsync<DeployFrame>(d => d.DeployId != id, TimeSpan.FromSeconds(30));
        await AuditEntryAsync($"rule:{ruleId} deploy.start ");

        await access.AuditHoldsAsync(
            $"deployer deploy.start {id}",
            $"deployer deploy.cancel /v1/deploys/{id}",
            $"rule:{ruleId} deploy.start {ruled.DeployId}");
    }

    [Fact]
    public async Task Builds_started_through_the_API_or_a_push_hook_and_tokens_revoked_are_audited_naming_who()
    {
        const string repo = "audit/app", secret = "audit-hook";
        using (var registered = await access.SendAsync(HttpMethod.Put, $"/v1/repos/{repo}", access.Admin, JsonContent.Create(new { cloneUrl = $"git://127.0.0.1/{repo}.git", secret })))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        var builder = await access.CreateAsync("builder", ["build"]);
        string id;
        using (var started = await access.SendAsync(HttpMethod.Post, "/v1/builds", builder, JsonContent.Create(new { repo, branch = "main", commit = BuildsHttp.Commit })))
        {
            var body = await started.Content.ReadAsStringAsync();
            Assert.True(started.StatusCode == HttpStatusCode.Created, body);
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        using (var cancelled = await access.SendAsync(HttpMethod.Post, $"/v1/builds/{id}/cancel", builder))
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync());
        // A hook carries no token: the repository's signature admits it.
        var pushed = await BuildsHttp.PushAsync(access.Silo.Http, repo, "main", secret);
        using (var cancelled = await access.SendAsync(HttpMethod.Post, $"/v1/builds/{pushed}/cancel", builder))
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync());
        await access.CreateAsync("short-lived", ["nodes:read"]);
        await access.RevokeAsync("short-lived");

        await access.AuditHoldsAsync(
            $"admin repo.change /v1/repos/{repo}",
            $"builder build.start {id}",
            $"builder build.cancel {id}",
            $"hook:github build.start {pushed}",
            "admin token.revoke short-lived");
    }

    [Fact]
    public async Task A_build_started_by_a_rule_is_audited_naming_the_rule()
    {
        const string repo = "audit/ruled";
        using (var registered = await access.SendAsync(HttpMethod.Put, $"/v1/repos/{repo}", access.Admin, JsonContent.Create(new { cloneUrl = $"git://127.0.0.1/{repo}.git" })))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        var rule = $$$"""{"name":"audit-build","trigger":{"type":"user_event","name":"audit-build"},"actions":[{"type":"start_build","repo":"{{{repo}}}","branch":"main"}]}""";
        string ruleId;
        using (var added = await access.SendAsync(HttpMethod.Post, "/v1/rules", access.Admin, new StringContent(rule, Encoding.UTF8, "application/json")))
        {
            var body = await added.Content.ReadAsStringAsync();
            Assert.True(added.StatusCode == HttpStatusCode.Created, body);
            ruleId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        using (var fired = await access.SendAsync(HttpMethod.Post, "/v1/events/audit-build", access.Admin, new StringContent("")))
            Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());

        // The rule runs after the event is answered: wait for its entry.
        var prefix = $"rule:{ruleId} build.start ";
        var id = (await AuditEntryAsync(prefix))[prefix.Length..];
        Assert.StartsWith(repo + "/", id);
        using var build = await access.SendAsync(HttpMethod.Get, $"/v1/builds/{id}", access.Admin);
        var text = await build.Content.ReadAsStringAsync();
        Assert.True(build.IsSuccessStatusCode, text);
        Assert.Contains($"\"rule:{ruleId}\"", text);
        Assert.Single(await access.AuditAsync(), e => e.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>Polls the audit log until an entry starts with <paramref name="prefix"/>: a rule's action records it after it started what it started.</summary>
    private async Task<string> AuditEntryAsync(string prefix)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var entries = await access.AuditAsync();
            if (entries.FirstOrDefault(e => e.StartsWith(prefix, StringComparison.Ordinal)) is { } found) return found;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"no '{prefix}…' entry in the audit log within 30 s:\n{string.Join('\n', entries)}");
            await Task.Delay(50);
        }
    }
}
