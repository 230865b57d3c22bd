using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Platform.Protocol;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>
/// An agent that drops a silo for not answering its pings closes with <see cref="AgentProtocol.SiloSilentCloseStatus"/>
/// and reconnects. The silo (only slow, say, on a busy machine) then gives the node its heartbeat timeout to come back
/// rather than failing it at once as it fails a connection that ended without a word.
/// </summary>
public sealed class AgentReconnectingCloseTests : IAsyncLifetime
{
    private static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(4);

    private readonly TempDir _dir = new();
    private SiloProcess _silo = null!;

    public async Task InitializeAsync()
        => _silo = await SiloProcess.StartAsync(_dir.Path, null, "--Platform:Nodes:HeartbeatTimeout", HeartbeatTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture));

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _dir.Dispose();
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    [Fact]
    public async Task A_node_whose_agent_closes_as_reconnecting_and_comes_back_is_never_failed()
    {
        var name = Unique("back");
        await using var watcher = await RawAgent.ConnectAsync(_silo.Port, RawAgent.NewHello(Unique("watcher")));
        var first = await RawAgent.ConnectAsync(_silo.Port, RawAgent.NewHello(name));
        await CloseAsReconnectingAsync(first);

        await using var again = await RawAgent.ConnectAsync(_silo.Port, RawAgent.NewHello(name, agentId: first.Hello.AgentId));
        Assert.NotNull(again.Welcome);
        await first.DisposeAsync();

        // Past the heartbeat timeout from the close, the end of the first connection must still have changed nothing.
        await AfterAsync(HeartbeatTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal("alive", await NodesHttp.StatusAsync(_silo.Http, name));
        var changes = await _silo.Http.GetFromJsonAsync<JsonElement>($"/v1/nodes/{name}/member-events");
        Assert.Equal(["member-join"], changes.EnumerateArray().Select(c => c.GetProperty("event").GetString()));
        Assert.Null(watcher.Find<MemberEventFrame>(m => m.Event == "member-failed" && m.Member.Name == name));
    }

    [Fact]
    public async Task A_node_whose_agent_closes_as_reconnecting_and_does_not_come_back_fails_after_the_heartbeat_timeout()
    {
        var name = Unique("gone");
        var agent = await RawAgent.ConnectAsync(_silo.Port, RawAgent.NewHello(name));
        var closed = Stopwatch.StartNew();
        await CloseAsReconnectingAsync(agent);
        await agent.DisposeAsync();

        await NodesHttp.WaitForStatusAsync(_silo.Http, name, "failed", HeartbeatTimeout * 4);
        // The silo started the timeout when it read the close, after this clock started: never sooner than the timeout.
        Assert.True(closed.Elapsed >= HeartbeatTimeout, $"failed {closed.Elapsed.TotalMilliseconds:0} ms after the close");
    }

    private static async Task CloseAsReconnectingAsync(RawAgent agent)
    {
        agent.StopPinging();
        await agent.Socket.CloseOutputAsync((WebSocketCloseStatus)AgentProtocol.SiloSilentCloseStatus, "the silo was silent; reconnecting", CancellationToken.None);
        await agent.Closed;
    }

    /// <summary>Waits out a span during which the silo must do nothing: what is asserted is the absence of a change within it.</summary>
    private static Task AfterAsync(TimeSpan span) => Task.Delay(span);
}
