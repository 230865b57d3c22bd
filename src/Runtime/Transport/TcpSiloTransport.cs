using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>
/// Silo-to-silo TCP over raw sockets (optionally TLS with mutual authentication, see <see cref="SiloTlsOptions"/>): a listener whose accepted connections are read with
/// System.IO.Pipelines, and one <see cref="OutboundConnection"/> per peer, dialed on the first send,
/// that writes queued frames in batches. Several transports can run in one process.
/// </summary>
public sealed class TcpSiloTransport : ISiloTransport
{
    private readonly ConcurrentDictionary<SiloAddress, OutboundConnection> _outbound = new();
    private readonly HashSet<InboundConnection> _inbound = [];
    private readonly Lock _gate = new();
    private readonly long _generation;
    private IFrameHandler? _handler;
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private SiloAddress _localAddress;
    private bool _started;
    private volatile bool _disposed;

    public TcpSiloTransport(TransportOptions options, long generation, ILogger<TcpSiloTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.Port is < 0 or > IPEndPoint.MaxPort)
            throw new ArgumentException($"TransportOptions.Port {options.Port} is not a TCP port (expected 0–65535; 0 picks a free one).", nameof(options));
        if (options.MaxFrameSize <= 0)
            throw new ArgumentException($"TransportOptions.MaxFrameSize {options.MaxFrameSize} must be positive.", nameof(options));
        if (options.ConnectTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"TransportOptions.ConnectTimeout {options.ConnectTimeout} must be positive.", nameof(options));
        if (options.MaxQueuedFrames <= 0)
            throw new ArgumentException($"TransportOptions.MaxQueuedFrames {options.MaxQueuedFrames} must be positive.", nameof(options));
        Options = options;
        Logger = logger;
        _generation = generation;
    }

    internal TransportOptions Options { get; }
    internal ILogger Logger { get; }

    /// <summary>The certificate and CA of silo-to-silo TLS; null for plain TCP.</summary>
    internal SiloTls? Tls { get; private set; }

    public SiloAddress LocalAddress => _started
        ? _localAddress
        : throw new InvalidOperationException("The silo-to-silo transport has no address until StartAsync has bound its port.");

    public Task StartAsync(IFrameHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) throw new InvalidOperationException("The silo-to-silo transport is already started.");

            Tls = SiloTls.Create(Options.Tls, Logger);
            var listenAddress = ParseListenAddress(Options.ListenAddress);
            var listener = Bind(listenAddress, Options.Port);
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            var advertised = Options.AdvertisedAddress
                ?? (listenAddress.Equals(IPAddress.Any) || listenAddress.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : Options.ListenAddress);

            _handler = handler;
            _listener = listener;
            _localAddress = new SiloAddress(advertised, port, _generation);
            _started = true;
            _acceptLoop = Task.Run(AcceptLoopAsync);
        }
        TransportLog.Listening(Logger, $"{Options.ListenAddress}:{_localAddress.Port}", _localAddress);
        if (Tls is not null) TransportLog.TlsEnabled(Logger, Tls.Describe(), Path.GetFullPath(Options.Tls.CaFile!));
        return Task.CompletedTask;
    }

    public void Send(SiloAddress target, IOutgoingFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        while (true)
        {
            if (!_outbound.TryGetValue(target, out var connection))
            {
                connection = Open(target, frame);
                if (connection is null) return;
            }
            var queued = connection.TryEnqueue(frame);
            if (queued == EnqueueResult.Queued) return;
            if (queued == EnqueueResult.Full)
            {
                FailFrame(target, frame, new SiloOverloadedException(
                    $"The queue of frames to silo {target} at {target.Endpoint} is full ({Options.MaxQueuedFrames} frames, TransportOptions.MaxQueuedFrames): " +
                    "the silo does not read as fast as this one sends; the frame was not sent."));
                return;
            }
            // That connection is closing; it fails what it holds. This frame goes on a new one.
            _outbound.TryRemove(new KeyValuePair<SiloAddress, OutboundConnection>(target, connection));
        }
    }

    /// <summary>Frames waiting to be written to <paramref name="peer"/> (0 without a connection).</summary>
    internal int QueuedFrames(SiloAddress peer) => _outbound.TryGetValue(peer, out var c) ? c.QueuedFrames : 0;

    public bool HasUnsentFrames => _outbound.Values.Any(c => c.HasUnsentFrames);

    public void Disconnect(SiloAddress peer)
    {
        var reason = new SiloUnavailableException($"the connection to silo {peer} at {peer.Endpoint} was closed because the silo was declared dead");
        if (_outbound.TryRemove(peer, out var connection)) connection.Close(reason);
        InboundConnection[] fromPeer;
        lock (_gate) fromPeer = [.. _inbound.Where(c => c.Peer == peer)];
        foreach (var inbound in fromPeer) inbound.Close(reason);
    }

    public async ValueTask DisposeAsync()
    {
        OutboundConnection[] outbound;
        InboundConnection[] inbound;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            outbound = [.. _outbound.Values];
            inbound = [.. _inbound];
        }
        _listener?.Dispose();
        var reason = new ObjectDisposedException(nameof(TcpSiloTransport), $"The silo-to-silo transport of {(_started ? _localAddress.ToString() : "this silo")} is shutting down.");
        foreach (var connection in outbound) connection.Close(reason);
        foreach (var connection in inbound) connection.Close(reason);
        await Task.WhenAll([_acceptLoop, .. outbound.Select(c => c.Completion), .. inbound.Select(c => c.Completion)]);
    }

    private OutboundConnection? Open(SiloAddress target, IOutgoingFrame frame)
    {
        Exception error;
        lock (_gate)
        {
            if (_outbound.TryGetValue(target, out var existing)) return existing;
            if (!_disposed && _started)
            {
                var connection = new OutboundConnection(this, target);
                _outbound[target] = connection;
                connection.Start();
                return connection;
            }
            error = _disposed
                ? new ObjectDisposedException(nameof(TcpSiloTransport), $"The silo-to-silo transport is shut down; the frame to silo {target} was not sent.")
                : new InvalidOperationException($"The silo-to-silo transport is not started; the frame to silo {target} was not sent.");
        }
        FailFrame(target, frame, error);
        return null;
    }

    private static IPAddress ParseListenAddress(string address)
        => IPAddress.TryParse(address, out var ip)
            ? ip
            : throw new InvalidOperationException($"TransportOptions.ListenAddress '{address}' is not an IP address (expected e.g. 127.0.0.1, 0.0.0.0 or ::).");

    private static Socket Bind(IPAddress address, int port)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            AllowRebindWhileInTimeWait(listener);
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
            return listener;
        }
        catch (SocketException e)
        {
            listener.Dispose();
            var hint = e.SocketErrorCode == SocketError.AddressNotAvailable
                ? "set TransportOptions.ListenAddress to an address of this machine"
                : "another process (or silo) may hold that port: choose a free one with Platform:Cluster:SiloPort (TransportOptions.Port), or 0 to pick one";
            throw new InvalidOperationException($"The silo-to-silo transport cannot listen on {address}:{port}: {e.Message}; {hint}.", e);
        }
    }

    /// <summary>
    /// Sets plain SO_REUSEADDR so a restarted silo takes its port back while its old connections sit
    /// in TIME_WAIT; it still refuses a second listener. Not <see cref="SocketOptionName.ReuseAddress"/>:
    /// on Unix .NET maps that to SO_REUSEPORT as well, which would let two silos share the port,
    /// and on Windows it allows port stealing (Windows needs nothing here).
    /// </summary>
    private static void AllowRebindWhileInTimeWait(Socket listener)
    {
        if (OperatingSystem.IsLinux()) listener.SetRawSocketOption(1, 2, BitConverter.GetBytes(1));  // SOL_SOCKET, SO_REUSEADDR
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()) listener.SetRawSocketOption(0xffff, 0x4, BitConverter.GetBytes(1));
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_disposed)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (Exception) when (_disposed)
            {
                return;
            }
            catch (SocketException e)
            {
                // E.g. out of descriptors: keep listening, but do not spin.
                TransportLog.AcceptFailed(Logger, e);
                await Task.Delay(100);
                continue;
            }

            socket.NoDelay = true;
            var connection = new InboundConnection(this, socket);
            lock (_gate)
            {
                if (_disposed)
                {
                    socket.Dispose();
                    return;
                }
                _inbound.Add(connection);
                connection.Start();
            }
        }
    }

    internal void Deliver(SiloAddress from, ReadOnlySequence<byte> payload)
    {
        try
        {
            _handler!.OnFrame(from, payload);
        }
        catch (Exception e)
        {
            // A handler bug must not cut the peer off: the next frame is independent.
            TransportLog.HandlerFailed(Logger, from, e);
        }
    }

    internal void FailFrame(SiloAddress peer, IOutgoingFrame frame, Exception reason)
    {
        try
        {
            frame.OnSendFailed(reason);
        }
        catch (Exception e)
        {
            TransportLog.SendFailedCallbackFailed(Logger, peer, e);
        }
    }

    /// <summary>A frame refused on its own (too large, serializer threw); the connection carries on.</summary>
    internal void RejectFrame(SiloAddress peer, IOutgoingFrame frame, Exception error)
    {
        TransportLog.FrameRejected(Logger, peer, error);
        FailFrame(peer, frame, error);
    }

    internal void OnConnected(OutboundConnection connection) => TransportLog.Connected(Logger, connection.Peer);

    internal void OnLost(OutboundConnection connection, Exception reason)
    {
        _outbound.TryRemove(new KeyValuePair<SiloAddress, OutboundConnection>(connection.Peer, connection));
        if (_disposed) return;
        TransportLog.OutboundLost(Logger, connection.Peer, reason);
        // A peer answers on its own connection to this silo, not on this one. A peer that closes both (a graceful
        // leave, after answering every call) may have answers still unread there, and losing the peer fails every
        // call still pending: so that happens once that connection has ended too (its reader delivers all it holds
        // first, then reports the loss itself), or after a bound if it stays open.
        InboundConnection? inbound;
        lock (_gate) inbound = _inbound.FirstOrDefault(c => c.Peer == connection.Peer);
        if (inbound is null) ConnectionLost(connection.Peer, reason);
        else DeferredLoss = LoseAfterAsync(inbound, connection.Peer, reason);
    }

    /// <summary>The last loss waiting for the peer's connection to this silo to end (for tests).</summary>
    internal Task DeferredLoss { get; private set; } = Task.CompletedTask;

    /// <summary>How long a lost peer's other connection may stay open before its pending calls fail anyway.</summary>
    internal TimeSpan AnswersGrace { get; set; } = TimeSpan.FromSeconds(1);

    private async Task LoseAfterAsync(InboundConnection inbound, SiloAddress peer, Exception reason)
    {
        try
        {
            // Ended: its reader reported the loss after delivering what it held (OnClosed), once is enough.
            await inbound.Completion.WaitAsync(AnswersGrace).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
        }
        if (!_disposed) ConnectionLost(peer, reason);
    }

    internal void OnClosed(OutboundConnection connection, Exception reason)
    {
        _outbound.TryRemove(new KeyValuePair<SiloAddress, OutboundConnection>(connection.Peer, connection));
        if (_disposed || connection.WasConnected) return;
        if (reason is SiloUnavailableException { Refused: true }) TransportLog.ConnectRefused(Logger, connection.Peer, reason.Message);
        else TransportLog.ConnectFailed(Logger, connection.Peer, reason);
    }

    internal void OnAccepted(InboundConnection connection, string remote) => TransportLog.Accepted(Logger, connection.Peer!.Value, remote);

    internal void OnClosed(InboundConnection connection, Exception? reason)
    {
        lock (_gate) _inbound.Remove(connection);
        if (_disposed || connection.Peer is not { } peer) return;
        reason ??= new SiloUnavailableException($"connection from silo {peer} was closed");
        TransportLog.InboundClosed(Logger, peer, reason);
        ConnectionLost(peer, reason);
    }

    internal void OnInboundFrameTooLarge(SiloAddress from, long length) => TransportLog.InboundFrameTooLarge(Logger, from, length, Options.MaxFrameSize);

    internal void OnRefused(string remote, string reason) => TransportLog.Refused(Logger, remote, reason);

    internal void OnRefusedByDialer(string remote, string reason) => TransportLog.RefusedByDialer(Logger, remote, reason);

    internal void OnTlsHandshakeFailed(string remote, string reason) => TransportLog.TlsHandshakeFailed(Logger, remote, reason);

    internal void OnRefusedByPeer(SiloAddress peer, string reason) => TransportLog.RefusedByPeer(Logger, peer, reason);

    private void ConnectionLost(SiloAddress peer, Exception reason)
    {
        try
        {
            _handler!.OnConnectionLost(peer, reason);
        }
        catch (Exception e)
        {
            TransportLog.ConnectionLostCallbackFailed(Logger, peer, e);
        }
    }
}
