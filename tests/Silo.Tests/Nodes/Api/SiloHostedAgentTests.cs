using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>A silo started with --agent is also its machine's node: the same agent, connected to itself.</summary>
public sealed class SiloHostedAgentTests
{
    [Fact]
    public async Task Silo_with_agent_is_its_own_alive_node_and_leaves_when_stopped_gracefully()
    {
        using var dir = new TempDir();
        var name = "host-" + Guid.NewGuid().ToString("N")[..8];
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, $$$"""{"node_name":"{{{name}}}","tags":{"role":"silo"}}""");
        var data = Path.Combine(dir.Path, "data");

        await using (var silo = await SiloProcess.StartAsync(data, null, "--agent", "--agent-config", config))
        {
            await NodesHttp.WaitForStatusAsync(silo.Http, name, "alive", TimeSpan.FromSeconds(20));
            var node = (await NodesHttp.NodeAsync(silo.Http, name))!.Value;
            Assert.Equal("silo", node.GetProperty("tags").GetProperty("role").GetString());
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        // Restarted without the agent: the node it was is left (a graceful leave), never failed.
        await using var again = await SiloProcess.StartAsync(data);
        Assert.Equal("left", await NodesHttp.StatusAsync(again.Http, name));
    }

    [Fact]
    public async Task Silo_with_agent_and_leave_on_terminate_false_fails_its_node_on_SIGTERM_as_serf_would()
    {
        using var dir = new TempDir();
        var name = "host-" + Guid.NewGuid().ToString("N")[..8];
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, $$$"""{"node_name":"{{{name}}}","leave_on_terminate":false}""");
        var data = Path.Combine(dir.Path, "data");

        await using (var silo = await SiloProcess.StartAsync(data, null, "--agent", "--agent-config", config))
        {
            await NodesHttp.WaitForStatusAsync(silo.Http, name, "alive", TimeSpan.FromSeconds(20));
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        // No leave was sent: the node it was is failed, as a Serf agent's is after a SIGTERM with leave_on_terminate off.
        await using var again = await SiloProcess.StartAsync(data);
        await NodesHttp.WaitForStatusAsync(again.Http, name, "failed", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task TTL_report_without_a_node_goes_to_the_silos_own_node_as_Consuls_local_agent_would()
    {
        using var dir = new TempDir();
        var name = "host-" + Guid.NewGuid().ToString("N")[..8];
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, $$$"""{"node_name":"{{{name}}}","checks":[{"id":"app","name":"App","ttl":"1h"}]}""");

        await using var silo = await SiloProcess.StartAsync(Path.Combine(dir.Path, "data"), null, "--agent", "--agent-config", config);
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "alive", TimeSpan.FromSeconds(20));
        // Another node with a check of the same id: without the silo's own node as the default, the report would be ambiguous (409).
        await using var other = await RawAgent.ConnectAsync(silo.Port, RawAgent.NewHello("other-" + name) with { Checks = [new("app", "App", "critical", "")] });

        using (var pass = await silo.Http.PutAsync("/v1/agent/check/pass/app?note=local", null))
            Assert.Equal(System.Net.HttpStatusCode.OK, pass.StatusCode);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var check = (await NodesHttp.NodeAsync(silo.Http, name))!.Value.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "app");
            if (check.GetProperty("status").GetString() == "passing" && check.GetProperty("output").GetString() == "local") break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{name}'s check app is still {check}");
            await Task.Delay(25);
        }
        var otherCheck = (await NodesHttp.NodeAsync(silo.Http, "other-" + name))!.Value.GetProperty("checks").EnumerateArray().Single();
        Assert.Equal("critical", otherCheck.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Check_registered_without_a_node_goes_to_the_silos_own_node_and_its_agent_runs_it()
    {
        using var dir = new TempDir();
        var name = "host-" + Guid.NewGuid().ToString("N")[..8];
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, $$$"""{"node_name":"{{{name}}}"}""");

        await using var silo = await SiloProcess.StartAsync(Path.Combine(dir.Path, "data"), null, "--agent", "--agent-config", config);
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "alive", TimeSpan.FromSeconds(20));
        using (var registered = await silo.Http.PutAsync("/v1/agent/check/register", new StringContent("""{"ID": "local", "Name": "Local", "TTL": "1h"}""")))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        // Only the agent holds the TTL: the report turns the check passing once that agent runs it.
        using (var pass = await silo.Http.PutAsync("/v1/agent/check/pass/local?note=here", null))
            Assert.Equal(System.Net.HttpStatusCode.OK, pass.StatusCode);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var checks = (await NodesHttp.NodeAsync(silo.Http, name))!.Value.GetProperty("checks").EnumerateArray().ToList();
            if (checks.Exists(c => c.GetProperty("id").GetString() == "local" && c.GetProperty("status").GetString() == "passing" && c.GetProperty("output").GetString() == "here")) break;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{name}'s checks are {string.Join(", ", checks)}");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Silo_with_a_bad_agent_config_exits_2_naming_the_file_and_key()
    {
        using var dir = new TempDir();
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, """{"node_name":"x","protocol":"five"}""");
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--data-dir", Path.Combine(dir.Path, "data"), "--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--agent", "--agent-config", config);
        Assert.Equal(2, code);
        Assert.Contains("agent.json", stderr);
        Assert.Contains("'protocol'", stderr);
    }
}
