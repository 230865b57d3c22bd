using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Nodes.Serf;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>SIGHUP makes a real <c>platform agent</c> read its configuration again, as Serf's agent does: handlers, tags, log level.</summary>
public sealed class AgentReloadTests : IAsyncLifetime
{
    private AgentProcessFleet _fleet = null!;

    private string Watcher => "watch-" + _fleet.Suffix;

    public async Task InitializeAsync()
    {
        _fleet = await AgentProcessFleet.StartAsync();
        await _fleet.StartAgentAsync(Watcher, new() { ["event_handlers"] = new[] { _fleet.HandlerFor(Watcher, "member-update") } });
    }

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task SIGHUP_applies_new_tags_as_a_member_update_for_every_agent_and_the_new_handlers()
    {
        var node = "hup-" + _fleet.Suffix;
        var agent = await _fleet.StartAgentAsync(node, new()
        {
            ["tags"] = new Dictionary<string, string> { ["role"] = "old" },
            ["event_handlers"] = new[] { _fleet.HandlerFor(node, "user:first") },
        });

        _fleet.WriteConfig(node, new()
        {
            ["tags"] = new Dictionary<string, string> { ["role"] = "new", ["version"] = "42" },
            ["event_handlers"] = new[] { _fleet.HandlerFor(node, "user:second") },
            ["log_level"] = "debug",
        });
        agent.Signal(NodeSignals.SIGHUP);

        // The other agent's member-update handler sees the node with its new tags (Serf's member line: name, addr, role, tags).
        await _fleet.UntilAsync(() => _fleet.Events(Watcher).Any(line => line.StartsWith("member-update ", StringComparison.Ordinal)
            && line.Contains($"{node} 127.0.0.1 new role=new,version=42", StringComparison.Ordinal)), $"{Watcher} handling {node}'s member-update");
        var tags = (await NodesHttp.NodeAsync(_fleet.Http, node))!.Value.GetProperty("tags");
        Assert.Equal(("new", "42"), (tags.GetProperty("role").GetString(), tags.GetProperty("version").GetString()));

        // Handlers run in Lamport order: once "second" ran under the new handler, "first" had its turn and nothing took it.
        await NodesHttp.FireAsync(_fleet.Http, "first", "a");
        await NodesHttp.FireAsync(_fleet.Http, "second", "b");
        await _fleet.UntilAsync(() => _fleet.Events(node).Contains("user second b"), $"{node}'s reloaded handler running");
        Assert.DoesNotContain(_fleet.Events(node), line => line.StartsWith("user first", StringComparison.Ordinal));
        Assert.False(agent.HasExited, agent.Output);
        await agent.WaitForOutputAsync("caught SIGHUP", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task SIGHUP_reads_a_rewritten_tags_file_and_the_silo_gets_the_tags()
    {
        var node = "tagsfile-" + _fleet.Suffix;
        var tagsFile = Path.Combine(_fleet.NodeDir(node), "tags.json");
        Directory.CreateDirectory(_fleet.NodeDir(node));
        File.WriteAllText(tagsFile, """{"role":"cache"}""");
        var agent = await _fleet.StartAgentAsync(node, new() { ["tags_file"] = tagsFile });

        File.WriteAllText(tagsFile, """{"role":"cache","zone":"b"}""");
        agent.Signal(NodeSignals.SIGHUP);

        await _fleet.UntilAsync(async () =>
        {
            var tags = (await NodesHttp.NodeAsync(_fleet.Http, node))!.Value.GetProperty("tags");
            return tags.TryGetProperty("zone", out var zone) && zone.GetString() == "b";
        }, $"{node}'s tags from its rewritten tags file reaching the silo");
        Assert.Equal("cache", JsonDocument.Parse(File.ReadAllText(tagsFile)).RootElement.GetProperty("role").GetString());
    }

    [Fact]
    public async Task SIGHUP_with_a_bad_config_file_keeps_the_running_configuration_and_says_why()
    {
        var node = "badhup-" + _fleet.Suffix;
        var agent = await _fleet.StartAgentAsync(node, new() { ["event_handlers"] = new[] { _fleet.HandlerFor(node, "user:kept") } });

        File.WriteAllText(_fleet.ConfigFile(node), """{"node_name": 5}""");
        agent.Signal(NodeSignals.SIGHUP);
        await _fleet.UntilAsync(() => agent.Output.Contains("failed to reload the configuration", StringComparison.Ordinal), $"{node} logging the failed reload");
        await agent.WaitForOutputAsync("'node_name'", TimeSpan.FromSeconds(30));

        await NodesHttp.FireAsync(_fleet.Http, "kept", "c");
        await _fleet.UntilAsync(() => _fleet.Events(node).Contains("user kept c"), $"{node}'s old handler still running");
        Assert.Equal("alive", await NodesHttp.StatusAsync(_fleet.Http, node));
    }
}
