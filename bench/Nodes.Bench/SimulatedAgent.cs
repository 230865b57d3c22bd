using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Platform.Protocol;

namespace Platform.Nodes.Bench;

/// <summary>
/// One simulated node: a WebSocket to the silo speaking the agent protocol (hello, pings, applied, query ack and
/// response), with no handlers. It reports when a user event or query arrives, stamped with <see cref="Stopwatch"/>.
/// </summary>
public sealed class SimulatedAgent(int index, string name, SimulatedFleet fleet) : IAsyncDisposable
{
    private ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _send = new(1, 1);

    // One per agent process: a reconnect with the same id is the same agent, not a second one claiming the name.
    private readonly string _agentId = Guid.NewGuid().ToString("N");
    private Task? _receive;

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
        var hello = new HelloFrame(Name, "127.0.0.1", 7946, new Dictionary<string, string> { ["role"] = "sim" }, _agentId, AgentProtocol.Version, 0);
        await SendAsync(AgentProtocol.Encode(hello));
        var buffer = new ArrayBufferWriter<byte>(4096);
        var first = await ReceiveAsync(buffer, cancellationToken) ?? throw new BenchFailure($"{Name}: the silo closed the socket before its welcome");
        switch (first)
        {
            case WelcomeFrame:
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
                        await SendAsync(AgentProtocol.Encode(new AppliedFrame(user.LTime)));
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

    private async Task<AgentFrame?> ReceiveAsync(ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        buffer.ResetWrittenCount();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            buffer.Advance(result.Count);
            if (!result.EndOfMessage) continue;
            // Member events (N per join, so N² while agents connect) and pongs need no reading here: skip their decoding.
            var message = buffer.WrittenSpan;
            if (message.StartsWith("{\"type\":\"member"u8) || message.StartsWith("{\"type\":\"pong\""u8))
            {
                buffer.ResetWrittenCount();
                continue;
            }
            return AgentProtocol.Decode(message);
        }
    }

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
