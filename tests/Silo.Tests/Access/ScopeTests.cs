using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Protocol;
using Platform.Silo.Tests.Builds;

namespace Platform.Silo.Tests.Access;

/// <summary>
/// The scopes <c>deploy</c>, <c>build</c>, <c>query</c> and <c>nodes:write</c> (check registration) against a real silo: a token with the scope does the work,
/// one without is refused with a 403 naming the scope it lacks.
/// </summary>
public sealed class ScopeTests(AccessSilo access) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task A_deploy_token_starts_and_cancels_deploys_and_a_token_without_deploy_is_refused_naming_it()
    {
        await using var agent = await access.ConnectNodeAsync("scope-node");
        var deployer = await access.CreateAsync("scope-deployer", ["deploy"]);
        var other = await access.CreateAsync("scope-no-deploy", ["nodes:read", "build"]);
        static JsonContent Deploy() => JsonContent.Create(new { manifest = "src: file:///nonexistent/app.tar\ndest: /tmp/never\n", target = new { nodes = new[] { "scope-node" } } });

        using (var refused = await access.SendAsync(HttpMethod.Post, "/v1/deploys", other, Deploy()))
            await AssertRefusedAsync(refused, "scope-no-deploy", "deploy");
        string id;
        using (var started = await access.SendAsync(HttpMethod.Post, "/v1/deploys", deployer, Deploy()))
        {
            var body = await started.Content.ReadAsStringAsync();
            Assert.True(started.StatusCode == HttpStatusCode.Created, body);
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        await agent.WaitForAsync<DeployFrame>(d => d.DeployId == id, TimeSpan.FromSeconds(30));
        using (var refused = await access.SendAsync(HttpMethod.Delete, $"/v1/deploys/{id}", other))
            await AssertRefusedAsync(refused, "scope-no-deploy", "deploy");
        using (var cancelled = await access.SendAsync(HttpMethod.Delete, $"/v1/deploys/{id}", deployer))
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync());
        using var shown = await access.SendAsync(HttpMethod.Get, $"/v1/deploys/{id}", other);
        Assert.Contains("\"cancel", await shown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_build_token_starts_and_cancels_builds_and_reads_the_queue_and_a_token_without_build_is_refused_naming_it()
    {
        const string repo = "scope/app";
        using (var registered = await access.SendAsync(HttpMethod.Put, $"/v1/repos/{repo}", access.Admin, JsonContent.Create(new { cloneUrl = $"git://127.0.0.1/{repo}.git", secret = "scope-hook" })))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        var builder = await access.CreateAsync("scope-builder", ["build"]);
        var other = await access.CreateAsync("scope-no-build", ["deploy", "nodes:read"]);
        JsonContent Build() => JsonContent.Create(new { repo, branch = "main", commit = BuildsHttp.Commit });

        using (var refused = await access.SendAsync(HttpMethod.Post, "/v1/builds", other, Build()))
            await AssertRefusedAsync(refused, "scope-no-build", "build");
        string id;
        using (var started = await access.SendAsync(HttpMethod.Post, "/v1/builds", builder, Build()))
        {
            var body = await started.Content.ReadAsStringAsync();
            Assert.True(started.StatusCode == HttpStatusCode.Created, body);
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        // No agent runs builds here: its first job waits in the queue.
        using (var queue = await access.SendAsync(HttpMethod.Get, "/v1/queue", builder))
        {
            var body = await queue.Content.ReadAsStringAsync();
            Assert.True(queue.IsSuccessStatusCode, body);
            Assert.Contains(id, body);
        }
        using (var refused = await access.SendAsync(HttpMethod.Get, "/v1/queue", other))
            await AssertRefusedAsync(refused, "scope-no-build", "build");
        using (var refused = await access.SendAsync(HttpMethod.Post, $"/v1/builds/{id}/cancel", other))
            await AssertRefusedAsync(refused, "scope-no-build", "build");
        using (var cancelled = await access.SendAsync(HttpMethod.Post, $"/v1/builds/{id}/cancel", builder))
        {
            var body = await cancelled.Content.ReadAsStringAsync();
            Assert.True(cancelled.IsSuccessStatusCode, body);
            Assert.Equal("canceled", JsonDocument.Parse(body).RootElement.GetProperty("state").GetString());
        }
    }

    [Fact]
    public async Task A_query_token_runs_a_query_and_gets_the_nodes_answers()
    {
        await using var agent = await access.ConnectNodeAsync("scope-answers", answerQueries: true);
        var querier = await access.CreateAsync("scope-querier", ["query"]);
        using var answered = await access.SendAsync(HttpMethod.Post, "/v1/queries/uptime?node=scope-answers&timeout=10s", querier, new StringContent(""));
        var lines = (await answered.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.True(answered.IsSuccessStatusCode, string.Join("\n", lines));
        var response = Assert.Single(lines, l => l.GetProperty("type").GetString() == "response");
        Assert.Equal("scope-answers", response.GetProperty("from").GetString());
        Assert.Equal("scope-answers"u8.ToArray(), response.GetProperty("payload").GetBytesFromBase64());
        Assert.Equal(1, lines[^1].GetProperty("responses").GetInt32());
        Assert.Contains("scope-querier query.run /v1/queries/uptime", await access.AuditAsync());
    }

    [Fact]
    public async Task A_nodes_write_token_registers_and_deregisters_a_check_which_is_audited_and_an_agent_token_is_refused_naming_nodes_write()
    {
        await using var agent = await access.ConnectNodeAsync("scope-checks");
        var writer = await access.CreateAsync("scope-check-writer", ["nodes:write"]);
        var agentOnly = await access.CreateAsync("scope-check-agent", ["agent"]);
        static StringContent Check() => new("""{"ID": "scope-ttl", "Name": "Scope TTL", "TTL": "1h"}""");

        // A token that may report TTLs (scope agent) may not add what runs on a node.
        using (var refused = await access.SendAsync(HttpMethod.Put, "/v1/agent/check/register?node=scope-checks", agentOnly, Check()))
            await AssertRefusedAsync(refused, "scope-check-agent", "nodes:write");
        using (var refused = await access.SendAsync(HttpMethod.Put, "/v1/nodes/scope-checks/checks", agentOnly, Check()))
            await AssertRefusedAsync(refused, "scope-check-agent", "nodes:write");
        Assert.Null(agent.Find<ChecksFrame>(_ => true));

        using (var registered = await access.SendAsync(HttpMethod.Put, "/v1/agent/check/register?node=scope-checks", writer, Check()))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        await agent.WaitForAsync<ChecksFrame>(f => f.Checks.Any(c => c.Id == "scope-ttl"), TimeSpan.FromSeconds(30));
        using (var removed = await access.SendAsync(HttpMethod.Delete, "/v1/nodes/scope-checks/checks/scope-ttl", writer))
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());
        await agent.WaitForAsync<ChecksFrame>(f => f.Checks.Count == 0, TimeSpan.FromSeconds(30));
        var audit = await access.AuditAsync();
        Assert.Contains("scope-check-writer check.register scope-checks/scope-ttl", audit);
        Assert.Contains("scope-check-writer check.deregister scope-checks/scope-ttl", audit);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string token, string scope)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode} {body}");
        Assert.Contains($"token '{token}' lacks scope '{scope}'", body);
    }
}
