using System.Diagnostics;
using Platform.Silo.Tests.Nodes.Api;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>A silo with a short reconnect timeout reaps a failed node after it, and the other agents' handlers get Serf's member-reap.</summary>
public sealed class AgentReapTests
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_failed_node_is_reaped_after_the_reconnect_timeout_and_the_other_agents_handlers_get_member_reap()
    {
        await using var fleet = await AgentProcessFleet.StartAsync("--Platform:Nodes:ReconnectTimeout", ReconnectTimeout.ToString("c"));
        var watcher = "watch-" + fleet.Suffix;
        var node = "gone-" + fleet.Suffix;
        await fleet.StartAgentAsync(watcher, new() { ["event_handlers"] = new[] { fleet.HandlerFor(watcher, "member-failed,member-reap") } });
        var agent = await fleet.StartAgentAsync(node, new());

        await agent.KillAsync();
        await NodesHttp.WaitForStatusAsync(fleet.Http, node, "failed", TimeSpan.FromSeconds(10));
        var sinceFailed = Stopwatch.StartNew();

        await fleet.UntilAsync(() => fleet.Events(watcher).Any(l => l.StartsWith($"member-reap {node} ", StringComparison.Ordinal)), $"{watcher} handling {node}'s member-reap");
        // Not before the timeout (less the time it took to see the failure through the API).
        Assert.True(sinceFailed.Elapsed > ReconnectTimeout - TimeSpan.FromMilliseconds(500), $"reaped {sinceFailed.ElapsedMilliseconds} ms after it was seen failed");
        Assert.Contains(fleet.Events(watcher), l => l.StartsWith($"member-failed {node} ", StringComparison.Ordinal));

        Assert.Null(await NodesHttp.NodeAsync(fleet.Http, node));
        var list = await fleet.Http.GetStringAsync("/v1/nodes");
        Assert.DoesNotContain($"\"{node}\"", list, StringComparison.Ordinal);
        Assert.Contains($"\"{watcher}\"", list, StringComparison.Ordinal);
    }
}
