using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>
/// The one connection that carries everything this silo sends to a peer. Senders enqueue frames; a writer
/// serializes what is queued into one <see cref="FrameBatch"/> and sends it with one gathered write. The first frame
/// sent by an inbound connection's reading thread while it delivers the last frame it holds
/// (<see cref="WritesInline"/>) is written by that thread when no write is in progress and the socket takes it at
/// once: no thread hop for a lone call or response. Any other send leaves the write to the thread pool, where the
/// writer takes every frame queued by then: writing inline from every thread made a busy connection one send per
/// frame (1,000 callers across silos: 92 k calls/s against 307 k batched). A second loop reads the socket only to
/// learn that it closed (the peer never writes on it, except a reject frame when it refuses the connection). When the connection ends, every frame queued or
/// in the unsent batch fails with the reason. With silo-to-silo TLS, the dial shakes hands before the hello and
/// batches are written through an <see cref="SslStream"/> (encrypted into its buffer: one copy more); a peer whose
/// certificate is not of the cluster's CA is sent a reject frame saying why instead of the hello.
/// </summary>
internal sealed class OutboundConnection
{
    /// <summary>A batch stops taking frames past this many bytes, so one busy peer cannot grow it without bound.</summary>
    private const int MaxBatchBytes = 1024 * 1024;

    private static readonly Action<OutboundConnection> s_writeOnPool = static c => c.Write(inline: false);

    [ThreadStatic] private static bool t_writesInline;

    private readonly TcpSiloTransport _transport;
    private readonly Channel<IOutgoingFrame> _queue = Channel.CreateUnbounded<IOutgoingFrame>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = false });
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _gate = new();

    // Owned by whoever holds the writer role (_writing == 1).
    private readonly FrameBatch _batch = new();
    private readonly List<IOutgoingFrame> _inBatch = [];
    private int _writing;

    private Socket? _socket;
    private SslStream? _tls;
    private Exception? _closeReason;
    private int _queued;

    public OutboundConnection(TcpSiloTransport transport, SiloAddress peer)
    {
        _transport = transport;
        Peer = peer;
    }

    public SiloAddress Peer { get; }

    /// <summary>
    /// Set on a reading thread while it delivers the last frame it holds: the first frame it sends meanwhile is written
    /// at once by this thread, since nothing else is about to join the batch. Elsewhere, and for the frames after that
    /// one, a send wakes the pooled writer.
    /// </summary>
    internal static bool WritesInline
    {
        get => t_writesInline;
        set => t_writesInline = value;
    }

    /// <summary>True once the dial succeeded (a later loss is then reported to the frame handler).</summary>
    public bool WasConnected => Volatile.Read(ref _socket) is not null;

    /// <summary>Completes when the connection has ended and every queued frame has been failed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Frames queued and not yet taken by a writer.</summary>
    public int QueuedFrames => Volatile.Read(ref _queued);

    /// <summary>
    /// True while frames are queued or a writer holds the role (writing a batch, or the dial not done): what is
    /// left to hand to the kernel. Once false, a close sends the peer everything before its FIN.
    /// </summary>
    public bool HasUnsentFrames => Volatile.Read(ref _queued) > 0 || Volatile.Read(ref _writing) != 0;

    /// <summary>Queues a frame unless the queue is full or the connection is closing (the caller then opens a new one).</summary>
    public EnqueueResult TryEnqueue(IOutgoingFrame frame)
    {
        if (Interlocked.Increment(ref _queued) > _transport.Options.MaxQueuedFrames)
        {
            Interlocked.Decrement(ref _queued);
            return EnqueueResult.Full;
        }
        if (!_queue.Writer.TryWrite(frame))
        {
            Interlocked.Decrement(ref _queued);
            return EnqueueResult.Closed;
        }
        // Not connected yet: the dial writes what queued once it succeeds.
        if (Volatile.Read(ref _socket) is not null && Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            if (t_writesInline)
            {
                // One frame per delivered frame: a grain run here that sends many (a fan-out) leaves the rest to be batched.
                t_writesInline = false;
                Write(inline: true);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(s_writeOnPool, this, preferLocal: false);
            }
        }
        return EnqueueResult.Queued;
    }

    private bool TryDequeue(out IOutgoingFrame frame)
    {
        if (!_queue.Reader.TryRead(out frame!)) return false;
        Interlocked.Decrement(ref _queued);
        return true;
    }

    /// <summary>Dials off the caller's thread; frames queue meanwhile.</summary>
    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>
    /// Closes the connection (the first reason wins), fails the queued frames and reports the loss
    /// at once; frames a writer already holds fail as soon as it lets go of them, which may be later
    /// if a frame's serializer is slow.
    /// </summary>
    public Exception Close(Exception reason)
    {
        Socket? socket;
        lock (_gate)
        {
            if (_closeReason is not null) return _closeReason;
            _closeReason = reason;
            socket = _socket;
        }
        _queue.Writer.TryComplete();
        _closing.Cancel();
        if (socket is not null) GracefulClose.Close(socket);
        FailQueued(reason);
        if (socket is not null) _transport.OnLost(this, reason);
        return reason;
    }

    // The channel allows several readers so that Close can drain it while a writer may be reading
    // too: each frame is dequeued, and so failed or sent, exactly once.
    private void FailQueued(Exception reason)
    {
        while (TryDequeue(out var frame)) _transport.FailFrame(Peer, frame, reason);
    }

    private async Task RunAsync()
    {
        Task watch = Task.CompletedTask;
        Exception? failure = null;
        try
        {
            var socket = await ConnectAsync();
            SslStream? tls = null;
            if (_transport.Tls is { } settings)
            {
                try
                {
                    tls = await AuthenticateAsync(socket, settings);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            // The writer role is taken before the socket is published, so the hello goes first.
            Volatile.Write(ref _writing, 1);
            lock (_gate)
            {
                if (_closeReason is not null)
                {
                    tls?.Dispose();
                    socket.Dispose();
                    return;
                }
                _tls = tls;
                _socket = socket;
            }
            _transport.OnConnected(this);
            watch = WatchForCloseAsync(socket, tls);
            FrameCodec.WriteHello(_batch, _transport.LocalAddress, Peer);
            Write(inline: false);
            await watch;
        }
        catch (Exception e)
        {
            failure = e is SocketException or ObjectDisposedException or IOException
                ? new SiloUnavailableException($"connection to silo {Peer} at {Peer.Endpoint} broke: {e.Message}", e)
                : e;
        }
        finally
        {
            var reason = Close(failure ?? new SiloUnavailableException($"connection to silo {Peer} at {Peer.Endpoint} was closed"));
            await watch;
            // Only once the read side ended: a stream disposed under a pending read may hand its buffer back while in use.
            _tls?.Dispose();
            FailQueued(reason);
            _transport.OnClosed(this, reason);
        }
    }

    private async Task<Socket> ConnectAsync()
    {
        var options = _transport.Options;
        EndPoint endpoint = IPAddress.TryParse(Peer.Host, out var ip) ? new IPEndPoint(ip, Peer.Port) : new DnsEndPoint(Peer.Host, Peer.Port);
        var socket = ip is null ? new Socket(SocketType.Stream, ProtocolType.Tcp) : new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;  // batching is ours; Nagle would only add latency
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token);
            return socket;
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SiloUnavailableException($"silo {Peer} at {Peer.Endpoint} is unreachable: the connection was closed while dialing");
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw new SiloUnavailableException($"silo {Peer} at {Peer.Endpoint} is unreachable: no connection within {options.ConnectTimeout.TotalMilliseconds:0} ms (TransportOptions.ConnectTimeout)");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new SiloUnavailableException($"silo {Peer} at {Peer.Endpoint} is unreachable: {e.Message}", e);
        }
    }

    /// <summary>
    /// Shakes hands as the TLS client, presenting this silo's certificate. A server whose certificate is not of the
    /// cluster's CA is told why (a reject frame instead of the hello) and the dial fails with a refusal.
    /// </summary>
    private async Task<SslStream> AuthenticateAsync(Socket socket, SiloTls settings)
    {
        var options = _transport.Options;
        var check = new PeerCertificateCheck();
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await tls.AuthenticateAsClientAsync(SiloTls.ClientOptions(settings.ForNewConnection(), Peer.Host, check), timeout.Token).ConfigureAwait(false);
            if (check.Problem is { } problem)
            {
                var reason = $"silo {Peer} at {Peer.Endpoint}: {problem}";
                await tls.WriteAsync(FrameCodec.EncodeReject($"silo {_transport.LocalAddress} refused the connection to {reason}", identity: true), timeout.Token).ConfigureAwait(false);
                throw new SiloUnavailableException($"refused the connection to {reason}") { Refused = true };
            }
            return tls;
        }
        catch (OperationCanceledException) when (!_closing.IsCancellationRequested)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new SiloUnavailableException($"silo {Peer} at {Peer.Endpoint} is unreachable: no TLS handshake within {options.ConnectTimeout.TotalMilliseconds:0} ms (TransportOptions.ConnectTimeout)");
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            // Bytes that are not TLS (a plain silo's refusal) fail authentication: a refusal. A connection closed
            // mid-handshake (the peer gave up waiting, or stopped) is an I/O error: worth retrying.
            throw new SiloUnavailableException(
                $"TLS handshake with silo {Peer} at {Peer.Endpoint} failed: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}; " +
                "a silo without silo-to-silo TLS (Platform:Cluster:Tls) refuses a TLS dialer, and its log says so", e)
            { Refused = e is System.Security.Authentication.AuthenticationException };
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs with the writer role held: writes batches while frames are queued, then lets go of the role. A sender
    /// writing <paramref name="inline"/> writes one batch at most and leaves the rest to the thread pool, so it
    /// never becomes every other sender's writer; a send the socket cannot take at once finishes on the pool.
    /// </summary>
    private void Write(bool inline)
    {
        var socket = _socket!;
        var maxFrameSize = _transport.Options.MaxFrameSize;
        try
        {
            while (true)
            {
                if (Volatile.Read(ref _closeReason) is { } closed)
                {
                    FailBatch(closed);
                    return;  // the role stays taken: nothing is written on a closed connection
                }
                while (_batch.Length < MaxBatchBytes && TryDequeue(out var frame)) Append(frame, maxFrameSize);
                if (_batch.Length == 0)
                {
                    Interlocked.Exchange(ref _writing, 0);
                    // A frame queued after the last read but before the role was free has no writer yet.
                    if (!_queue.Reader.TryPeek(out _) || Interlocked.CompareExchange(ref _writing, 1, 0) != 0) return;
                    continue;
                }
                if (Volatile.Read(ref _closeReason) is not null) continue;

                if (_tls is { } tls)
                {
                    var written = WriteTls(tls);
                    if (!written.IsCompleted)
                    {
                        _ = FinishTlsWriteAsync(written);
                        return;
                    }
                    written.GetAwaiter().GetResult();
                    Sent((int)_batch.Length);
                }
                else
                {
                    var send = socket.SendAsync(_batch.GetSegments(), SocketFlags.None);
                    if (!send.IsCompleted)
                    {
                        _ = FinishSendAsync(send);
                        return;
                    }
                    Sent(send.GetAwaiter().GetResult());
                }
                if (inline && _queue.Reader.TryPeek(out _))
                {
                    ThreadPool.UnsafeQueueUserWorkItem(s_writeOnPool, this, preferLocal: false);
                    return;
                }
            }
        }
        catch (Exception e)
        {
            WriteFailed(e);
        }
    }

    private async Task FinishSendAsync(Task<int> send)
    {
        try
        {
            Sent(await send.ConfigureAwait(false));
        }
        catch (Exception e)
        {
            WriteFailed(e);
            return;
        }
        Write(inline: false);
    }

    /// <summary>Writes the batch's segments through TLS; completes synchronously (allocating nothing) when the socket takes them at once.</summary>
    private ValueTask WriteTls(SslStream tls)
    {
        var segments = _batch.GetSegments();
        for (var i = 0; i < segments.Count; i++)
        {
            var write = tls.WriteAsync(segments[i].AsMemory());
            if (!write.IsCompletedSuccessfully) return WriteRestAsync(tls, write, segments, i + 1);
        }
        return default;
    }

    private static async ValueTask WriteRestAsync(SslStream tls, ValueTask pending, IList<ArraySegment<byte>> segments, int next)
    {
        await pending.ConfigureAwait(false);
        for (var i = next; i < segments.Count; i++) await tls.WriteAsync(segments[i].AsMemory()).ConfigureAwait(false);
    }

    private async Task FinishTlsWriteAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
            Sent((int)_batch.Length);
        }
        catch (Exception e)
        {
            WriteFailed(e);
            return;
        }
        Write(inline: false);
    }

    private void Sent(int sent)
    {
        if (sent != _batch.Length) throw new IOException($"the socket sent {sent} of {_batch.Length} bytes");
        _inBatch.Clear();
        _batch.Reset();
    }

    private void WriteFailed(Exception e)
    {
        var reason = Close(e is SocketException or ObjectDisposedException or IOException
            ? new SiloUnavailableException($"connection to silo {Peer} at {Peer.Endpoint} broke: {e.Message}", e)
            : e);
        FailBatch(reason);
    }

    private void FailBatch(Exception reason)
    {
        foreach (var frame in _inBatch) _transport.FailFrame(Peer, frame, reason);
        _inBatch.Clear();
        _batch.Reset();
    }

    private void Append(IOutgoingFrame frame, int maxFrameSize)
    {
        _batch.BeginFrame();
        try
        {
            frame.Write(_batch);
        }
        catch (Exception e)
        {
            _batch.DiscardFrame();
            _transport.RejectFrame(Peer, frame, e);
            return;
        }

        var length = _batch.FrameLength;
        if (length > maxFrameSize)
        {
            _batch.DiscardFrame();
            _transport.RejectFrame(Peer, frame, new MessageTooLargeException(
                $"A frame of {length} bytes to silo {Peer} exceeds the limit of {maxFrameSize} bytes (TransportOptions.MaxFrameSize)."));
            return;
        }
        _batch.EndFrame();
        _inBatch.Add(frame);
    }

    private async Task WatchForCloseAsync(Socket socket, SslStream? tls)
    {
        // A peer only ever writes a reject frame here; anything longer is not kept.
        var received = new byte[FrameCodec.PrefixLength + FrameCodec.MaxHelloLength];
        var count = 0;
        Exception reason;
        try
        {
            while (true)
            {
                if (count == received.Length) count = 0;
                var n = tls is null
                    ? await socket.ReceiveAsync(received.AsMemory(count), SocketFlags.None)
                    : await tls.ReadAsync(received.AsMemory(count));
                if (n == 0) break;
                count += n;
            }
            if (FrameCodec.TryParseReject(received.AsSpan(0, count), out var refusal, out var identity))
            {
                _transport.OnRefusedByPeer(Peer, refusal);
                reason = new SiloUnavailableException($"silo {Peer} at {Peer.Endpoint} refused the connection: {refusal}") { Refused = identity };
            }
            else
            {
                reason = new SiloUnavailableException($"connection to silo {Peer} at {Peer.Endpoint} was closed by the peer");
            }
        }
        catch (Exception e)
        {
            reason = new SiloUnavailableException($"connection to silo {Peer} at {Peer.Endpoint} broke: {e.Message}", e);
        }
        Close(reason);
    }
}

/// <summary>What became of a frame offered to a connection's queue.</summary>
internal enum EnqueueResult
{
    Queued,
    Full,
    Closed,
}
