using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
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

    private enum Outcome { ConnectFailed, Lost, SiloStopping, Refused, Left, Cancelled }

    private async Task<(Outcome, string)> SessionAsync(Uri server, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        if (_options.Token is { Length: > 0 } token) socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        if (_options.Tls is { } tls)
        {
            try
            {
                tls.Configure(socket.Options, _time);
            }
            catch (Exception failure) when (failure is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or Platform.Client.Tls.TlsSettingsException)
            {
                return (Outcome.ConnectFailed, failure.Message);
            }
        }
        else
        {
            if (_options.ClientCertificates is { } certificates) socket.Options.ClientCertificates = certificates;
            if (_options.TrustedRoots is { } roots) socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(roots, certificate, errors);
        }

        var buffer = new MessageBuffer();
        WelcomeFrame welcome;
        using (var connect = new CancellationTokenSource(_options.ConnectTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(connect.Token, cancellationToken))
        {
            try
            {
                await socket.ConnectAsync(WebSocketUri(server), linked.Token).ConfigureAwait(false);
                if (!await SendOnAsync(socket, AgentProtocol.Encode(_session.CreateHello()), linked.Token).ConfigureAwait(false))
                    return (Outcome.ConnectFailed, "the hello could not be sent");
                var first = await ReceiveAsync(socket, buffer, linked.Token).ConfigureAwait(false);
                switch (first)
                {
                    case WelcomeFrame w:
                        welcome = w;
                        break;
                    case RefusedFrame refused:
                        await CloseQuietlyAsync(socket).ConfigureAwait(false);
                        return (Outcome.Refused, refused.Error);
                    case null:
                        return Closed(socket, "closed before its welcome");
                    default:
                        return (Outcome.ConnectFailed, $"sent '{first.GetType().Name}' before its welcome");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return (Outcome.Cancelled, "stopped");
            }
            catch (OperationCanceledException)
            {
                return (Outcome.ConnectFailed, $"no welcome within {_options.ConnectTimeout.TotalMilliseconds:0} ms");
            }
            catch (WebSocketException) when (socket.HttpStatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                // The token is missing, wrong, expired, revoked or lacks scope agent: retrying would be refused again.
                var reason = socket.HttpResponseHeaders?.TryGetValue("X-Platform-Denied", out var denied) == true ? string.Join(' ', denied) : "no reason given";
                return (Outcome.Refused, $"access refused (HTTP {(int)socket.HttpStatusCode}): {reason}");
            }
            catch (Exception failure) when (failure is WebSocketException or HttpRequestException or IOException or JsonException or NotSupportedException)
            {
                return (Outcome.ConnectFailed, Platform.Client.Tls.TlsClientSettings.DescribeFailure(failure) ?? failure.Message);
            }
        }

        Server = server;
        Volatile.Write(ref _socket, socket);
        Interlocked.MemoryBarrier();
        if (_leaving) await SendLeaveOnceAsync(socket).ConfigureAwait(false);
        await _session.OnWelcomeAsync(welcome, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _welcomes);
        LogConnected(_logger, server, welcome.Silo);
        try { Connected?.Invoke(server, welcome); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }

        var interval = welcome.HeartbeatIntervalMs > 0 ? TimeSpan.FromMilliseconds(welcome.HeartbeatIntervalMs) : _options.HeartbeatInterval;
        var watch = new Liveness(_time);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = HeartbeatAsync(socket, interval, watch, session.Token);
        try
        {
            while (true)
            {
                var frame = await ReceiveAsync(socket, buffer, session.Token).ConfigureAwait(false);
                watch.Heard();
                switch (frame)
                {
                    case null:
                        if (_leaving) return (Outcome.Left, "left");
                        return Closed(socket, "closed the connection");
                    case PongFrame:
                        break;
                    case RefusedFrame refused:
                        return (Outcome.Refused, refused.Error);
                    default:
                        await _session.OnFrameAsync(frame, session.Token).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            socket.Abort();
            return (Outcome.Cancelled, "stopped");
        }
        catch (Exception failure) when (failure is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            if (_leaving) return (Outcome.Left, "left");
            return (Outcome.Lost, watch.DeadReason ?? failure.Message);
        }
        finally
        {
            _socket = null;
            await session.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
        }
    }

    private async Task HeartbeatAsync(ClientWebSocket socket, TimeSpan interval, Liveness watch, CancellationToken cancellationToken)
    {
        var silentLimit = interval * _options.MissedHeartbeats;
        long sequence = 0;
        ulong appliedSent = 0;
        try
        {
            while (true)
            {
                var ticked = _time.GetTimestamp();
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
                // A tick that comes late means this process did not run (starved of CPU, paused, its pool behind): the
                // silo heard no ping and its answers may sit unread here, so that silence is this agent's, not the silo's.
                var late = _time.GetElapsedTime(ticked) - interval;
                if (late > TimeSpan.Zero) watch.Excuse(late);
                var silent = watch.Silent;
                if (silent > silentLimit)
                {
                    watch.DeadReason = $"the silo was silent for {silent.TotalMilliseconds:0} ms ({_options.MissedHeartbeats} heartbeat intervals)";
                    await SayReconnectingAsync(socket, interval).ConfigureAwait(false);
                    socket.Abort();
                    return;
                }
                // The applied mark rides on the ping when it moved: one frame per interval, not one per event handled.
                var applied = Interlocked.Read(ref _applied);
                if (await SendOnAsync(socket, AgentProtocol.Encode(new PingFrame(++sequence, applied != appliedSent ? applied : 0)), cancellationToken).ConfigureAwait(false))
                    appliedSent = applied;
            }
        }
        catch (OperationCanceledException)
        {
            // The session ended.
        }
    }

    /// <summary>
    /// Tells a silent silo that this agent is reconnecting (<see cref="AgentProtocol.SiloSilentCloseStatus"/>), so that a
    /// silo that was only slow does not fail the node; bounded, since a silo that reads nothing may never take it.
    /// </summary>
    private async Task SayReconnectingAsync(ClientWebSocket socket, TimeSpan bound)
    {
        using var limit = new CancellationTokenSource(bound);
        try
        {
            if (!await _sendLock.WaitAsync(bound).ConfigureAwait(false)) return;
            try
            {
                await socket.CloseOutputAsync((WebSocketCloseStatus)AgentProtocol.SiloSilentCloseStatus, "the silo was silent; reconnecting", limit.Token).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The silo is gone or its socket is full: it hears nothing, and fails the node as it would anyway.
        }
    }

    private async ValueTask<bool> SendOnAsync(ClientWebSocket socket, byte[] message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (socket.State != WebSocketState.Open) return false;
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception failure) when (failure is WebSocketException or IOException or ObjectDisposedException
            || (failure is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A send pending when the socket is aborted (a silo taken as silent) ends cancelled: a failed send, not a stop.
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next frame, or null when the silo closed the socket. A frame this agent does not know is skipped.</summary>
    private async Task<AgentFrame?> ReceiveAsync(ClientWebSocket socket, MessageBuffer buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var count = 0;
            while (true)
            {
                if (count == buffer.Data.Length)
                {
                    if (count >= MaxMessageBytes) throw new WebSocketException($"a silo message is larger than {MaxMessageBytes} bytes");
                    Array.Resize(ref buffer.Data, count * 2);
                }
                var result = await socket.ReceiveAsync(buffer.Data.AsMemory(count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await CloseQuietlyAsync(socket).ConfigureAwait(false);
                    return null;
                }
                count += result.Count;
                if (result.EndOfMessage) break;
            }
            try
            {
                return AgentProtocol.Decode(buffer.Data.AsSpan(0, count));
            }
            catch (Exception failure) when (failure is JsonException or NotSupportedException)
            {
                // A newer silo may send frames this agent does not know: skip them rather than drop the connection.
                LogUnknownFrame(_logger, failure.Message);
            }
        }
    }

    private static (Outcome, string) Closed(ClientWebSocket socket, string what)
    {
        var status = (int?)socket.CloseStatus;
        var description = string.IsNullOrEmpty(socket.CloseStatusDescription) ? "" : $": {socket.CloseStatusDescription}";
        return status switch
        {
            AgentProtocol.RefusedCloseStatus => (Outcome.Refused, $"closed with status 4001{description}"),
            AgentProtocol.SiloStoppingCloseStatus => (Outcome.SiloStopping, $"the silo is stopping (status 4002){description}"),
            _ => (Outcome.Lost, $"the silo {what} (status {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}{description})"),
        };
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false); }
        catch (Exception failure) when (failure is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The silo is gone already; nothing is left to close.
        }
    }

    private TimeSpan Backoff(int failures)
    {
        // The first attempt after a loss goes to the next server at once; later ones back off, doubled and jittered.
        if (failures <= 1) return TimeSpan.Zero;
        var ceiling = Math.Min(_options.BackoffCap.Ticks, _options.BackoffBase.Ticks * (1L << Math.Min(failures - 2, 20)));
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + Random.Shared.NextDouble() * 0.5)));
    }

    /// <summary>The silo URL's WebSocket form: http→ws, https→wss, with the connect path after the base path.</summary>
    public static Uri WebSocketUri(Uri server)
    {
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme switch { "https" or "wss" => "wss", _ => "ws" },
            Path = server.AbsolutePath.TrimEnd('/') + AgentProtocol.ConnectPath,
        };
        return builder.Uri;
    }

    private static bool Trusted(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
    }

    private sealed class MessageBuffer
    {
        public byte[] Data = new byte[4096];
    }

    /// <summary>
    /// When the silo was last heard from, shared by the receive and heartbeat loops: how long it has been silent,
    /// counting only time this agent ran on schedule (as Lifeguard's local health keeps a slow member from judging
    /// others). A stall of this process is excused until the silo is next heard.
    /// </summary>
    private sealed class Liveness(TimeProvider time)
    {
        private readonly Lock _lock = new();
        private long _heard = time.GetTimestamp();
        private TimeSpan _excused;

        public string? DeadReason { get; set; }

        public TimeSpan Silent
        {
            get
            {
                lock (_lock) return time.GetElapsedTime(_heard) - _excused;
            }
        }

        public void Heard()
        {
            lock (_lock)
            {
                _heard = time.GetTimestamp();
                _excused = TimeSpan.Zero;
            }
        }

        /// <summary>This process ran <paramref name="late"/> behind schedule: that much of the silence is not the silo's.</summary>
        public void Excuse(TimeSpan late)
        {
            // Never more than the silence itself: lateness from before the silo was last heard is no longer owed.
            lock (_lock) _excused = TimeSpan.FromTicks(Math.Min((_excused + late).Ticks, time.GetElapsedTime(_heard).Ticks));
        }
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
