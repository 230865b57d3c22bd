using System.Net.WebSockets;
using Platform.Protocol;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>Nodes across a silo restart: durable state, a stop that fails nobody, and the nodes whose agents never came back.</summary>
public sealed class NodesRestartTests(ITestOutputHelper output)
{
    // What fails a node here must be its agent not coming back, not a ping that a loaded machine delivered late
    // (1.2 s by default), as in the other node tests on silo processes.
    private static readonly string[] SlowHeartbeat = ["--Platform:Nodes:HeartbeatTimeout", "00:00:05"];

    [Fact]
    public async Task Node_state_survives_a_silo_restart_and_only_agents_that_do_not_come_back_are_failed()
    {
        using var dir = new TempDir();
        var port = SiloProcess.FreePort();
        var returning = RawAgent.NewHello("returning", new() { ["role"] = "web" });
        var gone = RawAgent.NewHello("gone", new() { ["role"] = "db" });
        long incarnation;
        ulong ltime;
        await using (var silo = await SiloProcess.StartAsync(dir.Path, port, SlowHeartbeat))
        {
            await using var a = await RawAgent.ConnectAsync(port, returning);
            await using var b = await RawAgent.ConnectAsync(port, gone);
            incarnation = (await NodesHttp.NodeAsync(silo.Http, "returning"))!.Value.GetProperty("incarnation").GetInt64();
            ltime = await NodesHttp.FireAsync(silo.Http, "deploy", "v1");
            await a.WaitForAsync<UserEventFrame>(e => e.LTime == ltime);
            await a.SendAsync(new AppliedFrame(ltime));
            await a.SendAsync(new CheckFrame(new CheckState("disk", "disk space", "warning", "91% used")));
            // The applied report is written before the node grain answers anything after it.
            await WaitAsync(async () => (await NodesHttp.NodeAsync(silo.Http, "returning"))!.Value.GetProperty("lastEventLTime").GetUInt64() == ltime);

            var stopping = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(60)));
            output.WriteLine($"silo stopped in {stopping.ElapsedMilliseconds} ms");
            await a.Closed;
            await b.Closed;
            Assert.Equal((WebSocketCloseStatus)AgentProtocol.SiloStoppingCloseStatus, a.CloseStatus);
            Assert.Equal((WebSocketCloseStatus)AgentProtocol.SiloStoppingCloseStatus, b.CloseStatus);
        }

        await using var restarted = await SiloProcess.StartAsync(dir.Path, port, SlowHeartbeat);
        await using var again = await RawAgent.ConnectAsync(port, returning with { LastEventLTime = ltime });
        Assert.NotNull(again.Welcome);

        // The agent that did not come back is failed once the grace for reconnecting is over.
        var took = await NodesHttp.WaitForStatusAsync(restarted.Http, "gone", "failed", TimeSpan.FromSeconds(15));
        output.WriteLine($"'gone' failed {took.TotalMilliseconds:0} ms after the restart");

        var node = (await NodesHttp.NodeAsync(restarted.Http, "returning"))!.Value;
        Assert.True(node.GetProperty("status").GetString() == "alive", $"'returning' is {node}\n{restarted.Output}");
        Assert.Equal(incarnation, node.GetProperty("incarnation").GetInt64());
        Assert.Equal("web", node.GetProperty("tags").GetProperty("role").GetString());
        Assert.Equal(ltime, node.GetProperty("lastEventLTime").GetUInt64());
        var check = Assert.Single(node.GetProperty("checks").EnumerateArray());
        Assert.Equal("warning", check.GetProperty("status").GetString());
        Assert.Equal("db", (await NodesHttp.NodeAsync(restarted.Http, "gone"))!.Value.GetProperty("tags").GetProperty("role").GetString());
        // The event history survived too, and the next event follows it.
        Assert.True(await NodesHttp.FireAsync(restarted.Http, "deploy", "v2") > ltime);
        Assert.Empty(again.All<UserEventFrame>(e => e.LTime <= ltime));
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
