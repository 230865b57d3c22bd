using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Platform.Protocol;

namespace Platform.Nodes.Bench;

/// <summary>
/// One simulated node: a WebSocket to the silo speaking the agent protocol (hello, pings that carry the applied mark,
/// query ack and response), with no handlers. It reports when a user event or query arrives, stamped with <see cref="Stopwatch"/>.
/// Having no handlers and no member view, it does not decode what only those need: the welcome's member list (1.5 MB
/// at 10,000 members), member events and pongs are read to their end and dropped after their first bytes. The silo
/// sends it exactly what it sends a real agent.
/// </summary>
public sealed class SimulatedAgent(int index, string name, SimulatedFleet fleet) : IAsyncDisposable
{
    private ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _send = new(1, 1);

    // One per agent process: a reconnect with the same id is the same agent, not a second one claiming the name.
    private readonly string _agentId = Guid.NewGuid().ToString("N");
    private Task? _receive;

    /// <summary>The last user event handled, and the last such mark a ping carried to the silo (ping loop only).</summary>
    public ulong Applied;
    public ulong AppliedSent;

    public int Index { get; } = index;
    public string Name { get; } = name;
    public bool Closed { get; private set; }

    /// <summary>The welcome came: pings may go (the first frame must be the hello).</summary>
    public bool Ready { get; private set; }

    /// <summary>Connects, says hello and returns once the silo's welcome came.</summary>
    public async Task ConnectAsync(Uri connect, CancellationToken cancellationToken)
    {
        _socket.Dispose();
        _socket = new ClientWebSocket();
        _socket.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await _socket.ConnectAsync(connect, cancellationToken);
        var hello = new HelloFrame(Name, "127.0.0.1", 7946, new Dictionary<string, string> { ["role"] = "sim" }, _agentId, AgentProtocol.Version, 0, MemberEvents: fleet.MemberEvents);
        await SendAsync(AgentProtocol.Encode(hello));
        // A small buffer of its own: read whole, the welcome would grow it to the member list's size for good.
        var buffer = new ArrayBufferWriter<byte>(1024);
        var first = await ReceiveAsync(buffer, cancellationToken, skipWelcome: true) ?? throw new BenchFailure($"{Name}: the silo closed the socket before its welcome");
        switch (first)
        {
            case var _ when ReferenceEquals(first, Skipped):
                break;
            case RefusedFrame refused:
                throw new BenchFailure($"{Name}: refused: {refused.Error}");
            default:
                throw new BenchFailure($"{Name}: expected a welcome, got {first.GetType().Name}");
        }
        Ready = true;
        _receive = ReceiveLoopAsync(buffer);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        await _send.WaitAsync();
        try
        {
            if (_socket.State == WebSocketState.Open) await _socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task ReceiveLoopAsync(ArrayBufferWriter<byte> buffer)
    {
        try
        {
            while (await ReceiveAsync(buffer, CancellationToken.None) is { } frame)
            {
                switch (frame)
                {
                    case UserEventFrame user:
                        fleet.OnUserEvent(this, user, Stopwatch.GetTimestamp());
                        // As `platform agent` reports it: on its next ping.
                        if (user.LTime > Applied) Applied = user.LTime;
                        break;
                    case DeployFrame deploy:
                        // Stamped, then answered at once as a node that ran it: the silo's dispatch is what is timed.
                        fleet.OnDeploy(this, Stopwatch.GetTimestamp());
                        await SendAsync(AgentProtocol.Encode(new DeployResultFrame(deploy.DeployId, Name, "succeeded", 0, 0, "")));
                        break;
                    case QueryFrame query:
                        if (query.RequestAck) await SendAsync(AgentProtocol.Encode(new QueryAckFrame(query.Id)));
                        await SendAsync(AgentProtocol.Encode(new QueryResponseFrame(query.Id, "ok"u8.ToArray())));
                        fleet.OnQuery(this, query, Stopwatch.GetTimestamp());
                        break;
                }
            }
        }
        catch (WebSocketException)
        {
        }
        Closed = true;
    }

    /// <summary>
    /// The next message this agent acts on; null when the socket closed. Member events (every join goes to every
    /// agent), pongs and, with <paramref name="skipWelcome"/>, the welcome are drained without being kept: the welcome
    /// then returns as <see cref="Skipped"/>.
    /// </summary>
    private async Task<AgentFrame?> ReceiveAsync(ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken, bool skipWelcome = false)
    {
        buffer.ResetWrittenCount();
        var skipping = false;
        var welcome = false;
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.GetMemory(1024), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            buffer.Advance(result.Count);
            fleet.CountReceived(result.Count);
            if (!skipping && (buffer.WrittenCount >= 18 || result.EndOfMessage))
            {
                var start = buffer.WrittenSpan;
                welcome = skipWelcome && start.StartsWith("{\"type\":\"welcome\""u8);
                skipping = welcome || start.StartsWith("{\"type\":\"member"u8) || start.StartsWith("{\"type\":\"pong\""u8);
            }
            if (skipping) buffer.ResetWrittenCount();
            if (!result.EndOfMessage) continue;
            if (welcome) return Skipped;
            if (skipping)
            {
                skipping = false;
                continue;
            }
            return AgentProtocol.Decode(buffer.WrittenSpan);
        }
    }

    /// <summary>Stands for a message read and dropped (the welcome).</summary>
    private static readonly AgentFrame Skipped = new PingFrame(0);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench over", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
        if (_receive is not null) await _receive.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { });
    }
}
