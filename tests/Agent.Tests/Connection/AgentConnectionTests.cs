using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Connection;
using Platform.Agent.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests.Connection;

public sealed class AgentConnectionTests
{
    private sealed class RecordingSession : IAgentSession
    {
        public string AgentId { get; } = Guid.NewGuid().ToString("N");
        public ConcurrentQueue<WelcomeFrame> Welcomes { get; } = new();
        public ConcurrentQueue<AgentFrame> Frames { get; } = new();

        public HelloFrame CreateHello() => new("node-1", "10.0.0.7", 7946, new Dictionary<string, string> { ["role"] = "web" }, AgentId, 5, 41);

        public ValueTask OnWelcomeAsync(WelcomeFrame welcome, CancellationToken cancellationToken)
        {
            Welcomes.Enqueue(welcome);
            return ValueTask.CompletedTask;
        }

        public ValueTask OnFrameAsync(AgentFrame frame, CancellationToken cancellationToken)
        {
            Frames.Enqueue(frame);
            return ValueTask.CompletedTask;
        }
    }

    private static (AgentConnection Connection, RecordingSession Session) Connect(params Uri[] servers)
    {
        var session = new RecordingSession();
        var connection = new AgentConnection(new AgentConnectionOptions { Servers = servers, HeartbeatInterval = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(30) }, session, NullLogger.Instance);
        return (connection, session);
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task running)
    {
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Hello_is_the_first_frame_and_the_welcome_reaches_the_session()
    {
        await using var silo = await FakeSilo.StartAsync();
        var (connection, session) = Connect(silo.Url);
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);

        await Eventually.True(() => session.Welcomes.Count == 1, "a welcome");
        var hello = Assert.Single(silo.Hellos);
        Assert.Equal(("node-1", "10.0.0.7", 7946, session.AgentId, 5, 41UL), (hello.Name, hello.Addr, hello.Port, hello.AgentId, hello.Protocol, hello.LastEventLTime));
        Assert.Equal("web", hello.Tags["role"]);
        Assert.IsType<HelloFrame>(silo.Received[0]);
        Assert.True(connection.IsConnected);
        Assert.Equal(silo.Url, connection.Server);

        await silo.SendAsync(new UserEventFrame("e1", "deploy", [1, 2], 42, true));
        await Eventually.True(() => session.Frames.OfType<UserEventFrame>().Any(), "the user event to reach the session");

        await StopAsync(stop, running);
    }

    [Fact]
    public async Task Pings_are_sent_every_heartbeat_interval_and_pongs_are_not_passed_on()
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.HeartbeatIntervalMs = 100;
        // A silo silent for 3 intervals (300 ms) would be dropped and a new connection counts its pings from 1 again:
        // on a loaded machine the fake silo's pongs can be that late, which is not what this test is about.
        var session = new RecordingSession();
        var connection = new AgentConnection(new AgentConnectionOptions
        {
            Servers = [silo.Url], HeartbeatInterval = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(30), MissedHeartbeats = 1000,
        }, session, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);

        await Eventually.True(() => silo.ReceivedOf<PingFrame>().Count() >= 3, "three pings");
        Assert.Single(silo.Hellos);
        Assert.Equal([1L, 2L, 3L], silo.ReceivedOf<PingFrame>().Take(3).Select(p => p.Seq));
        Assert.Empty(session.Frames.OfType<PongFrame>());

        await StopAsync(stop, running);
    }

    [Theory]
    [InlineData("close")]
    [InlineData("abort")]
    [InlineData("stopping")]
    public async Task Losing_a_silo_reconnects_to_the_next_one_within_a_second(string how)
    {
        await using var first = await FakeSilo.StartAsync("silo-1");
        await using var second = await FakeSilo.StartAsync("silo-2");
        var (connection, session) = Connect(first.Url, second.Url);
        var connectedTo = new ConcurrentQueue<(Uri Server, long At)>();
        connection.Connected += (server, _) => connectedTo.Enqueue((server, Stopwatch.GetTimestamp()));
        var disconnected = new ConcurrentQueue<long>();
        connection.Disconnected += (_, _) => disconnected.Enqueue(Stopwatch.GetTimestamp());
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);
        // The agent's welcome from the first silo, not only the fake silo's socket: a silo lost before its welcome was
        // read is not a reconnect, and the second welcome would be the only one.
        await Eventually.True(() => connectedTo.Any(c => c.Server == first.Url), "the agent welcomed by the first silo");

        var lost = Stopwatch.GetTimestamp();
        switch (how)
        {
            case "close": await first.CloseAsync(1000); break;
            case "abort": first.Abort(); break;
            case "stopping": await first.CloseAsync(AgentProtocol.SiloStoppingCloseStatus, "silo stopping"); break;
        }
        await Eventually.True(() => connectedTo.Any(c => c.Server == second.Url), "a welcome from the second silo");

        var reconnected = connectedTo.First(c => c.Server == second.Url).At;
        var elapsed = Stopwatch.GetElapsedTime(lost, reconnected);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"reconnected after {elapsed.TotalMilliseconds:0} ms " +
            $"(the loss seen after {Stopwatch.GetElapsedTime(lost, disconnected.First()).TotalMilliseconds:0} ms)");
        Assert.Equal(session.AgentId, second.Hellos.Single().AgentId);
        Assert.Equal(2, connection.Welcomes);

        await StopAsync(stop, running);
    }

    [Fact]
    public async Task A_silo_that_stops_answering_is_left_after_three_silent_intervals_with_a_close_that_says_so()
    {
        await using var first = await FakeSilo.StartAsync("silo-1");
        await using var second = await FakeSilo.StartAsync("silo-2");
        first.AnswerPings = false;
        first.HeartbeatIntervalMs = 100;
        var (connection, _) = Connect(first.Url, second.Url);
        var reasons = new ConcurrentQueue<string>();
        connection.Disconnected += (_, reason) => reasons.Enqueue(reason);
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);

        await Eventually.True(() => second.IsConnected, "the agent to move to the second silo");
        Assert.Contains("silent", reasons.First());
        // It said why it left, so that a silo that was only slow gives the node time to come back rather than failing it.
        await Eventually.True(() => first.CloseStatuses.Contains(AgentProtocol.SiloSilentCloseStatus), "the silent silo to read the agent's close");

        await StopAsync(stop, running);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_skipped_for_the_next()
    {
        var dead = DeadEndpoint();
        await using var silo = await FakeSilo.StartAsync();
        var (connection, _) = Connect(dead, silo.Url);
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);

        await Eventually.True(() => silo.IsConnected, "the reachable silo to hold the agent", TimeSpan.FromSeconds(5));
        await StopAsync(stop, running);
    }

    [Fact]
    public async Task A_refused_hello_ends_the_connection_with_the_silos_reason_and_no_retry()
    {
        await using var first = await FakeSilo.StartAsync("silo-1");
        await using var second = await FakeSilo.StartAsync("silo-2");
        first.OnHello = _ => new RefusedFrame("node 'node-1' is alive with another agent");
        var (connection, session) = Connect(first.Url, second.Url);

        var error = await Assert.ThrowsAsync<AgentRefusedException>(() => connection.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("node 'node-1' is alive with another agent", error.Error);
        Assert.Equal(first.Url, error.Server);
        Assert.Equal(1, first.Connections);
        Assert.Equal(0, second.Connections);
        Assert.Empty(session.Welcomes);
    }

    [Fact]
    public async Task Leave_sends_leave_and_ends_when_the_silo_closes()
    {
        await using var silo = await FakeSilo.StartAsync();
        var (connection, _) = Connect(silo.Url);
        var running = connection.RunAsync(CancellationToken.None);
        await Eventually.True(() => silo.IsConnected, "a connection");

        await connection.LeaveAsync();

        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(silo.ReceivedOf<LeaveFrame>());
        Assert.Equal(1, silo.Connections);
    }

    [Fact]
    public async Task Leave_asked_for_while_the_welcome_is_on_its_way_is_sent_once_the_session_is_welcomed()
    {
        await using var silo = await FakeSilo.StartAsync();
        using var helloSeen = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        silo.OnHello = hello =>
        {
            helloSeen.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)), "the test never released the welcome");
            return silo.Welcome(hello);
        };
        var (connection, _) = Connect(silo.Url);
        var running = connection.RunAsync(CancellationToken.None);
        Assert.True(helloSeen.Wait(TimeSpan.FromSeconds(30)), "no hello reached the silo");

        // The socket is open but not welcomed: the leave cannot go out yet, and must not be lost.
        var leaving = connection.LeaveAsync();
        release.Set();

        await leaving.WaitAsync(TimeSpan.FromSeconds(30));
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(silo.ReceivedOf<LeaveFrame>());
        Assert.Equal(1, silo.Connections);
    }

    [Theory]
    [InlineData("http://silo:8080", "ws://silo:8080/v1/agent/connect")]
    [InlineData("https://silo.example:443/base/", "wss://silo.example/base/v1/agent/connect")]
    [InlineData("ws://10.0.0.1:9000", "ws://10.0.0.1:9000/v1/agent/connect")]
    public void Server_urls_map_to_the_connect_endpoint(string server, string expected)
        => Assert.Equal(new Uri(expected), AgentConnection.WebSocketUri(new Uri(server)));

    private static Uri DeadEndpoint()
    {
        // A port that was just free: nothing listens there, so the connect is refused at once.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}
