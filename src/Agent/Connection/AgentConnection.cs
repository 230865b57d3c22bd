using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Connection;

/// <summary>
/// One agent's WebSocket to the silos (docs/nodes.md): hello, welcome, heartbeats, and on any loss a reconnect to the
/// next server at once, then with capped, jittered backoff. A refusal (close 4001) ends it. It holds no thread: a
/// receive loop and a heartbeat loop, both async, so one process can hold thousands.
/// </summary>
public sealed partial class AgentConnection
{
    private const int MaxMessageBytes = 1 << 20;

    private readonly AgentConnectionOptions _options;
    private readonly IAgentSession _session;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _socket;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _leaving;
    private int _leaveSent;
    private int _welcomes;

    /// <summary>A connection for <paramref name="session"/>; nothing happens until <see cref="RunAsync"/>.</summary>
    public AgentConnection(AgentConnectionOptions options, IAgentSession session, ILogger logger)
    {
        if (options.Servers.Count == 0) throw new ArgumentException("at least one server is needed", nameof(options));
        _options = options;
        _session = session;
        _logger = logger;
        _time = options.TimeProvider;
    }

    /// <summary>Raised after each welcome, with the server that gave it.</summary>
    public event Action<Uri, WelcomeFrame>? Connected;

    /// <summary>Raised when a connection (or an attempt) ends, with the server and why.</summary>
    public event Action<Uri, string>? Disconnected;

    /// <summary>The server of the current connection, or null between connections.</summary>
    public Uri? Server { get; private set; }

    /// <summary>True while a welcomed socket is open.</summary>
    public bool IsConnected => _socket is { State: WebSocketState.Open };

    /// <summary>How many welcomes this connection has had (1 after the first connect, more after reconnects).</summary>
    public int Welcomes => Volatile.Read(ref _welcomes);

    /// <summary>
    /// Connects and stays connected until <paramref name="cancellationToken"/> is cancelled or a leave completes (then
    /// returns), or a silo refuses the agent (then throws <see cref="AgentRefusedException"/>).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try { await ConnectLoopAsync(cancellationToken).ConfigureAwait(false); }
        finally { _finished.TrySetResult(); }
    }

    private async Task ConnectLoopAsync(CancellationToken cancellationToken)
    {
        var servers = _options.Servers;
        var index = _options.FirstServer % servers.Count;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var server = servers[index];
            var started = _time.GetTimestamp();
            var (outcome, reason) = await SessionAsync(server, cancellationToken).ConfigureAwait(false);
            Server = null;
            switch (outcome)
            {
                case Outcome.Left:
                    return;
                case Outcome.Cancelled:
                    return;
                case Outcome.Refused:
                    LogRefused(_logger, server, reason);
                    throw new AgentRefusedException(server, reason);
                case Outcome.ConnectFailed:
                    failures++;
                    break;
                case Outcome.SiloStopping:
                    failures = 0;
                    break;
                case Outcome.Lost:
                    // A silo that welcomes and drops at once must not make a tight loop.
                    failures = _time.GetElapsedTime(started) >= TimeSpan.FromSeconds(1) ? 0 : failures + 1;
                    break;
            }
            LogDisconnected(_logger, server, reason);
            try { Disconnected?.Invoke(server, reason); }
            catch (Exception failure) { LogObserverFailed(_logger, failure); }
            if (_leaving) return;
            index = (index + 1) % servers.Count;
            var delay = Backoff(failures);
            if (delay > TimeSpan.Zero)
            {
                try { await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private ulong _applied;

    /// <summary>
    /// Every user event up to <paramref name="ltime"/> is handled: the next ping tells the silo (each new connection's
    /// first ping too), so a burst of events costs the silo one frame per heartbeat interval, not one per event.
    /// </summary>
    public void ReportApplied(ulong ltime)
    {
        var seen = Interlocked.Read(ref _applied);
        while (ltime > seen)
        {
            var was = Interlocked.CompareExchange(ref _applied, ltime, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    /// <summary>Sends a frame on the current connection; false when there is none (the frame is dropped).</summary>
    public async ValueTask<bool> SendAsync(AgentFrame frame, CancellationToken cancellationToken = default)
    {
        var socket = _socket;
        if (socket is null) return false;
        return await SendOnAsync(socket, AgentProtocol.Encode(frame), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful leave: sends <c>leave</c> and waits (up to the leave timeout) for the silo to close the socket;
    /// <see cref="RunAsync"/> then returns. Without a connection it only stops reconnecting.
    /// </summary>
    public async Task LeaveAsync()
    {
        var running = _finished.Task;
        _leaving = true;
        // A leave asked for while a session is still being welcomed is sent by that session once it is (below).
        Interlocked.MemoryBarrier();
        var socket = Volatile.Read(ref _socket);
        if (socket is not null) await SendLeaveOnceAsync(socket).ConfigureAwait(false);
        var timeout = Task.Delay(_options.LeaveTimeout, _time);
        if (await Task.WhenAny(running, timeout).ConfigureAwait(false) == timeout)
        {
            LogLeaveTimedOut(_logger, _options.LeaveTimeout);
            _socket?.Abort();
        }
    }

    /// <summary>Sends the leave frame, once per connection's life, whichever of <see cref="LeaveAsync"/> and a session being welcomed sees the other first.</summary>
    private async Task SendLeaveOnceAsync(ClientWebSocket socket)
    {
        if (Interlocked.Exchange(ref _leaveSent, 1) == 0)
            await SendOnAsync(socket, AgentProtocol.Encode(new LeaveFrame()), CancellationToken.None).ConfigureAwait(false);
    }

    private TimeSpan Backoff(int failures)
    {
        // The first attempt after a loss goes to the next server at once; later ones back off, doubled and jittered.
        if (failures <= 1) return TimeSpan.Zero;
        var ceiling = Math.Min(_options.BackoffCap.Ticks, _options.BackoffBase.Ticks * (1L << Math.Min(failures - 2, 20)));
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + Random.Shared.NextDouble() * 0.5)));
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "agent: connected to {Server} (silo {Silo})")]
    private static partial void LogConnected(ILogger logger, Uri server, string silo);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "agent: connection to {Server} ended: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, Uri server, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "agent: {Server} refused this agent: {Reason}")]
    private static partial void LogRefused(ILogger logger, Uri server, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "agent: the silo did not close the connection within {Timeout} of the leave; closing it")]
    private static partial void LogLeaveTimedOut(ILogger logger, TimeSpan timeout);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "agent: skipped a silo message that is not a known frame: {Error}")]
    private static partial void LogUnknownFrame(ILogger logger, string error);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "agent: a connection observer failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception failure);
}
