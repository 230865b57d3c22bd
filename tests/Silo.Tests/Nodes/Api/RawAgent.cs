using System.Net.WebSockets;
using Platform.Protocol;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>
/// A minimal agent speaking the real protocol over a real WebSocket: hello, pings every 500 ms (until told to stop),
/// answers queries when asked to, and keeps every frame it received so tests can wait for one.
/// </summary>
internal sealed class RawAgent : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly List<AgentFrame> _received = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _pinging = true;
    private Task? _receiving;
    private Task? _pingLoop;

    private RawAgent(HelloFrame hello) => Hello = hello;

    public HelloFrame Hello { get; }

    public string Name => Hello.Name;

    public ClientWebSocket Socket => _socket;

    /// <summary>When set, every query is acked (if it asks) and answered with this node's name.</summary>
    public bool AnswerQueries { get; set; }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Completes when the socket ended (closed by either side or aborted).</summary>
    public Task Closed => _receiving ?? Task.CompletedTask;

    public static HelloFrame NewHello(string name, Dictionary<string, string>? tags = null, string? agentId = null, ulong lastEventLTime = 0) =>
        new(name, "127.0.0.1", 7946, tags ?? [], agentId ?? Guid.NewGuid().ToString("N"), AgentProtocol.Version, lastEventLTime);

    /// <summary>Connects (with <paramref name="token"/> as its bearer token, if any), sends the hello and waits for the welcome or the refusal.</summary>
    public static async Task<RawAgent> ConnectAsync(int port, HelloFrame hello, bool answerQueries = false, string? token = null)
    {
        var agent = new RawAgent(hello) { AnswerQueries = answerQueries };
        agent._socket.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        if (token is not null) agent._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        agent._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await agent._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}{AgentProtocol.ConnectPath}"), CancellationToken.None);
        agent._receiving = agent.ReceiveLoop();
        await agent.SendAsync(hello);
        await agent.WaitForAsync<AgentFrame>(f => f is WelcomeFrame or RefusedFrame, TimeSpan.FromSeconds(15));
        if (agent.Welcome is not null) agent._pingLoop = agent.PingLoop();
        return agent;
    }

    public WelcomeFrame? Welcome => Find<WelcomeFrame>(_ => true);

    public RefusedFrame? Refused => Find<RefusedFrame>(_ => true);

    /// <summary>Stops the heartbeat but keeps the socket open, as a process stopped with SIGSTOP would.</summary>
    public void StopPinging() => _pinging = false;

    public async Task SendAsync(AgentFrame frame)
    {
        var bytes = AgentProtocol.Encode(frame);
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Every frame of type <typeparamref name="T"/> received so far that matches.</summary>
    public List<T> All<T>(Func<T, bool>? match = null) where T : AgentFrame
    {
        lock (_received) return [.. _received.OfType<T>().Where(f => match is null || match(f))];
    }

    public T? Find<T>(Func<T, bool> match) where T : AgentFrame
    {
        lock (_received) return _received.OfType<T>().FirstOrDefault(match);
    }

    /// <summary>Waits until a matching frame has arrived (it may have already).</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null) where T : AgentFrame
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_received)
            {
                if (_received.OfType<T>().FirstOrDefault(match) is { } found) return found;
                changed = _changed.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _receiving is { IsCompleted: true })
            {
                lock (_received)
                    if (_received.OfType<T>().FirstOrDefault(match) is { } late) return late;
                throw new TimeoutException($"{Name}: no matching {typeof(T).Name} (socket {_socket.State}, close {_socket.CloseStatus}); received: {Describe()}");
            }
            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    public string Describe()
    {
        lock (_received) return string.Join(" | ", _received.Select(f => System.Text.Encoding.UTF8.GetString(AgentProtocol.Encode(f))));
    }

    public void Abort() => _socket.Abort();

    private async Task ReceiveLoop()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close) return;
                    length += result.Count;
                    if (result.EndOfMessage) break;
                }
                var frame = AgentProtocol.Decode(buffer.AsSpan(0, length));
                TaskCompletionSource changed;
                lock (_received)
                {
                    // A batch is kept as the member frames it carries: tests wait for single member events.
                    if (frame is MembersFrame batch) _received.AddRange(batch.Events);
                    else _received.Add(frame);
                    changed = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                changed.TrySetResult();
                if (frame is QueryFrame query && AnswerQueries) _ = AnswerAsync(query);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_received) _changed.TrySetResult();
            if (_socket.State == WebSocketState.CloseReceived)
            {
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                }
                catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
                {
                }
            }
        }
    }

    private async Task AnswerAsync(QueryFrame query)
    {
        try
        {
            if (query.RequestAck) await SendAsync(new QueryAckFrame(query.Id));
            await SendAsync(new QueryResponseFrame(query.Id, System.Text.Encoding.UTF8.GetBytes(Name)));
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PingLoop()
    {
        long seq = 0;
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                if (_pinging) await SendAsync(new PingFrame(++seq));
                await Task.Delay(AgentProtocol.DefaultHeartbeatInterval, _stop.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        if (_receiving is { } r) await r;
        if (_pingLoop is { } p) await p;
        _socket.Dispose();
        _stop.Dispose();
    }
}
