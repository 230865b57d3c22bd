using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Nodes.Serf;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>
/// SIGTERM and SIGINT sent to a real standalone <c>platform agent</c>: a graceful leave (leaving, then left, never
/// failed) as Serf's agent does it, and under <c>skip_leave_on_interrupt</c> or <c>leave_on_terminate: false</c> an exit without one.
/// </summary>
public sealed class AgentSignalTests : IAsyncLifetime
{
    private AgentProcessFleet _fleet = null!;

    private string Watcher => "watch-" + _fleet.Suffix;

    public async Task InitializeAsync()
    {
        _fleet = await AgentProcessFleet.StartAsync();
        await _fleet.StartAgentAsync(Watcher, new() { ["event_handlers"] = new[] { _fleet.HandlerFor(Watcher, "member-leave,member-failed") } });
    }

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Theory]
    [InlineData(NodeSignals.SIGTERM, "SIGTERM")]
    [InlineData(NodeSignals.SIGINT, "SIGINT")]
    public async Task A_signal_makes_the_agent_leave_gracefully_leaving_then_left_never_failed(int signal, string name)
    {
        var node = $"{name.ToLowerInvariant()}-{_fleet.Suffix}";
        var agent = await _fleet.StartAgentAsync(node, new());
        using var monitor = await MonitorLines.OpenAsync(_fleet.Http);

        agent.Signal(signal);
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(agent.ExitCode == 0, $"exit code {agent.ExitCode}\n{agent.Output}");
        Assert.Contains($"caught {name}, leaving gracefully", agent.Output);

        // The monitor shows the node leaving before its member-leave, and nothing of a failure.
        var lines = await monitor.UntilAsync(l => IsMember(l, "member-leave", node), $"{node}'s member-leave", _fleet.Diagnostics);
        var leaving = lines.FindIndex(l => l.GetProperty("type").GetString() == "leaving" && l.GetProperty("node").GetString() == node);
        Assert.True(leaving >= 0, $"no leaving line for {node} before its member-leave:\n{string.Join('\n', lines)}");
        Assert.DoesNotContain(lines, l => IsMember(l, "member-failed", node));

        Assert.Equal("left", await NodesHttp.StatusAsync(_fleet.Http, node));
        await _fleet.UntilAsync(() => _fleet.Events(Watcher).Any(l => l.StartsWith($"member-leave {node} ", StringComparison.Ordinal)), $"{Watcher} handling {node}'s member-leave");
        Assert.DoesNotContain(_fleet.Events(Watcher), l => l.StartsWith($"member-failed {node} ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(NodeSignals.SIGINT, "SIGINT", "skip_leave_on_interrupt", true)]
    [InlineData(NodeSignals.SIGTERM, "SIGTERM", "leave_on_terminate", false)]
    public async Task A_signal_configured_not_to_leave_exits_1_without_a_leave_and_the_node_is_failed(int signal, string name, string key, bool value)
    {
        var node = $"no-{name.ToLowerInvariant()}-{_fleet.Suffix}";
        var agent = await _fleet.StartAgentAsync(node, new() { [key] = value });
        using var monitor = await MonitorLines.OpenAsync(_fleet.Http);

        agent.Signal(signal);
        await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
        // Serf's agent exits 1 when a signal ends it without a graceful leave.
        Assert.True(agent.ExitCode == 1, $"exit code {agent.ExitCode}\n{agent.Output}");
        Assert.Contains($"caught {name}, exiting without a leave", agent.Output);

        var lines = await monitor.UntilAsync(l => IsMember(l, "member-failed", node), $"{node}'s member-failed", _fleet.Diagnostics);
        Assert.DoesNotContain(lines, l => l.GetProperty("type").GetString() == "leaving" && l.GetProperty("node").GetString() == node);
        Assert.Equal("failed", await NodesHttp.StatusAsync(_fleet.Http, node));
        await _fleet.UntilAsync(() => _fleet.Events(Watcher).Any(l => l.StartsWith($"member-failed {node} ", StringComparison.Ordinal)), $"{Watcher} handling {node}'s member-failed");
        Assert.DoesNotContain(_fleet.Events(Watcher), l => l.StartsWith($"member-leave {node} ", StringComparison.Ordinal));
    }

    private static bool IsMember(JsonElement line, string memberEvent, string node)
        => line.GetProperty("type").GetString() == "member" && line.GetProperty("event").GetString() == memberEvent
            && line.GetProperty("member").GetProperty("name").GetString() == node;
}
