using System.Net;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>
/// A real silo and two real <c>platform agent</c> processes: <see cref="Plain"/> has a configured TTL check <c>cfg</c>
/// and no <c>enable_script_checks</c>; <see cref="Scripts"/> sets <c>enable_script_checks</c>.
/// </summary>
public sealed class CheckRegistrationFleet : IAsyncLifetime
{
    public AgentProcessFleet Fleet { get; private set; } = null!;

    public string Plain => "plain-" + Fleet.Suffix;

    public string Scripts => "scripts-" + Fleet.Suffix;

    public async Task InitializeAsync()
    {
        Fleet = await AgentProcessFleet.StartAsync();
        await Fleet.StartAgentAsync(Plain, new()
        {
            ["checks"] = new object[] { new Dictionary<string, string> { ["id"] = "cfg", ["name"] = "Configured", ["ttl"] = "1h" } },
        });
        await Fleet.StartAgentAsync(Scripts, new() { ["enable_script_checks"] = true });
    }

    public async Task DisposeAsync()
    {
        if (Fleet is not null) await Fleet.DisposeAsync();
    }
}

/// <summary>
/// Checks registered through the silo's API (Consul's <c>/v1/agent/check/register</c> and Platform's
/// <c>/v1/nodes/{name}/checks</c>) run on the node's real agent, survive its restart, go away when deregistered; script
/// checks need the agent's <c>enable_script_checks</c>; bad input is refused naming it and stores nothing.
/// </summary>
public sealed class CheckRegistrationTests(CheckRegistrationFleet fixture) : IClassFixture<CheckRegistrationFleet>
{
    private AgentProcessFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task Ttl_check_registered_through_Consul_api_runs_on_the_agent_survives_its_restart_and_deregister_removes_it()
    {
        var node = fixture.Plain;
        await PutAsync($"/v1/agent/check/register?node={node}", """{"ID": "api-ttl", "Name": "API TTL", "TTL": "1h", "Notes": "reported by the test"}""", HttpStatusCode.OK);
        await UntilCheckAsync(node, "api-ttl", "critical", o => o.Length == 0);

        // The report goes to the agent, whose check set holds the TTL: it is applied only if the agent runs the check.
        await PutAsync($"/v1/agent/check/pass/api-ttl?node={node}&note=up", null, HttpStatusCode.OK);
        await UntilCheckAsync(node, "api-ttl", "passing", o => o == "up");
        var members = await PlatformCommand.RunAsync(new Dictionary<string, string> { ["PLATFORM_URL"] = Fleet.SiloUrl }, "members", "-detailed");
        Assert.True(members.ExitCode == 0, members.StdErr);
        Assert.Contains("API TTL=passing", members.StdOut.Split('\n').Single(l => l.StartsWith(node + " ", StringComparison.Ordinal)));

        // A new agent process gets the check in its welcome: it starts over from critical, and takes reports again.
        await Fleet.RestartAgentAsync(node);
        await UntilCheckAsync(node, "api-ttl", "critical", o => o.Length == 0);
        await PutAsync($"/v1/agent/check/pass/api-ttl?node={node}&note=again", null, HttpStatusCode.OK);
        await UntilCheckAsync(node, "api-ttl", "passing", o => o == "again");
        Assert.Contains(await ChecksAsync(node), c => c.Id == "cfg");

        await PutAsync($"/v1/agent/check/deregister/api-ttl?node={node}", null, HttpStatusCode.OK);
        Assert.DoesNotContain(await ChecksAsync(node), c => c.Id == "api-ttl");
        var unknown = await PutAsync($"/v1/agent/check/pass/api-ttl?node={node}", null, HttpStatusCode.NotFound);
        Assert.StartsWith("Unknown check ID \"api-ttl\"", unknown);
        await PutAsync($"/v1/agent/check/deregister/api-ttl?node={node}", null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Http_check_registered_through_the_nodes_api_turns_passing_a_new_definition_replaces_it_and_delete_removes_it()
    {
        var node = fixture.Plain;
        var url = $"http://127.0.0.1:{Fleet.Silo.Port}/version";
        var body = await PutAsync($"/v1/nodes/{node}/checks", $$"""{"id": "api-http", "name": "Silo version", "http": "{{url}}", "interval": "1s"}""", HttpStatusCode.OK);
        Assert.Contains("\"api-http\"", body);
        await UntilCheckAsync(node, "api-http", "passing", o => o.StartsWith($"HTTP GET {url}: 200 OK", StringComparison.Ordinal));

        // The same id again replaces the definition on the agent: a port nobody listens on is critical.
        var closed = $"http://127.0.0.1:{SiloProcess.FreePort()}/health";
        await PutAsync($"/v1/nodes/{node}/checks", $$"""{"id": "api-http", "name": "Silo version", "http": "{{closed}}", "interval": "1s"}""", HttpStatusCode.OK);
        await UntilCheckAsync(node, "api-http", "critical", o => o.Contains(closed, StringComparison.Ordinal));

        using (var removed = await Fleet.Http.DeleteAsync($"/v1/nodes/{node}/checks/api-http"))
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.DoesNotContain(await ChecksAsync(node), c => c.Id == "api-http");
        using var again = await Fleet.Http.DeleteAsync($"/v1/nodes/{node}/checks/api-http");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains($"node '{node}' has no check 'api-http' registered through the API", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Script_check_through_the_api_is_refused_without_enable_script_checks_and_runs_with_it()
    {
        var mark = "ran-" + Guid.NewGuid().ToString("N")[..8];
        var script = $$"""{"ID": "api-script", "Name": "Script", "Args": ["/bin/sh", "-c", "echo {{mark}}"], "Interval": "1h"}""";

        var refused = await PutAsync($"/v1/agent/check/register?node={fixture.Plain}", script, HttpStatusCode.Forbidden);
        Assert.Contains("enable_script_checks", refused);
        Assert.Contains(fixture.Plain, refused);
        Assert.DoesNotContain(await ChecksAsync(fixture.Plain), c => c.Id == "api-script");

        await PutAsync($"/v1/agent/check/register?node={fixture.Scripts}", script, HttpStatusCode.OK);
        await UntilCheckAsync(fixture.Scripts, "api-script", "passing", o => o.Contains(mark, StringComparison.Ordinal));
        await PutAsync($"/v1/agent/check/deregister/api-script?node={fixture.Scripts}", null, HttpStatusCode.OK);
        Assert.DoesNotContain(await ChecksAsync(fixture.Scripts), c => c.Id == "api-script");
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_it_a_configured_id_a_409_and_nothing_is_stored()
    {
        var node = fixture.Plain;
        var before = await ChecksAsync(node);

        Assert.Contains("has no 'name'", await PutAsync($"/v1/agent/check/register?node={node}", """{"ID": "nameless", "TTL": "1h"}""", HttpStatusCode.BadRequest));
        var unknown = "nosuch-" + Fleet.Suffix;
        var unknownAnswer = await PutAsync($"/v1/agent/check/register?node={unknown}", """{"Name": "x", "TTL": "1h"}""", HttpStatusCode.BadRequest);
        Assert.Contains("?node", unknownAnswer);
        Assert.Contains(unknown, unknownAnswer);
        Assert.Contains("'Interval' \"ten\"", await PutAsync($"/v1/agent/check/register?node={node}", """{"Name": "bad", "TCP": "127.0.0.1:1", "Interval": "ten"}""", HttpStatusCode.BadRequest));
        var platformAnswer = await PutAsync($"/v1/nodes/{node}/checks", """{"Name": "bad", "TCP": "127.0.0.1:1", "Interval": "ten"}""", HttpStatusCode.BadRequest);
        Assert.Contains("'Interval' \"ten\"", JsonDocument.Parse(platformAnswer).RootElement.GetProperty("error").GetString());
        Assert.Contains("is not JSON", await PutAsync($"/v1/nodes/{node}/checks", "{", HttpStatusCode.BadRequest));
        // Platform's routes name the node in the path: an unknown one is a 404, as for its other node routes.
        Assert.Contains($"node '{unknown}' is not known", await PutAsync($"/v1/nodes/{unknown}/checks", """{"Name": "x", "TTL": "1h"}""", HttpStatusCode.NotFound));
        // This silo runs no agent of its own: without ?node= there is no node to address.
        Assert.Contains("?node=", await PutAsync("/v1/agent/check/register", """{"Name": "x", "TTL": "1h"}""", HttpStatusCode.BadRequest));
        Assert.Contains("agent configuration", await PutAsync($"/v1/agent/check/register?node={node}", """{"ID": "cfg", "Name": "clash", "TTL": "1h"}""", HttpStatusCode.Conflict));
        Assert.Contains("agent configuration", await PutAsync($"/v1/agent/check/deregister/cfg?node={node}", null, HttpStatusCode.Conflict));

        Assert.Equal(before, await ChecksAsync(node));
    }

    private async Task<string> PutAsync(string path, string? body, HttpStatusCode expected)
    {
        using var response = await Fleet.Http.PutAsync(path, body is null ? null : new StringContent(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"PUT {path}: {(int)response.StatusCode} {text}");
        return text;
    }

    /// <summary>The node's checks as Platform's API shows them.</summary>
    private async Task<List<(string Id, string Status, string Output)>> ChecksAsync(string node)
    {
        using var response = await Fleet.Http.GetAsync($"/v1/nodes/{node}");
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. doc.RootElement.GetProperty("checks").EnumerateArray()
            .Select(c => (c.GetProperty("id").GetString()!, c.GetProperty("status").GetString()!, c.GetProperty("output").GetString()!))];
    }

    private Task UntilCheckAsync(string node, string id, string status, Func<string, bool> output) => Fleet.UntilAsync(async () =>
        (await ChecksAsync(node)).Exists(c => c.Id == id && c.Status == status && output(c.Output)),
        $"check {id} of {node} being {status}");
}
