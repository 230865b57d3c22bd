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
