using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>
/// A connection a peer dialed: its hello names the peer, then every frame read is handed to the
/// frame handler as a slice of the receive buffer, in order, on this connection's one reading thread.
/// The thread blocks in the socket's receive, so an arriving frame wakes it directly: no wake-up of the
/// socket engine's event thread and then of a pool thread per read (two hand-offs where one does).
/// A silo has one such connection per peer, so a thread each is affordable; a second one stands by, so that the
/// reader can run a call to an idle grain itself and hand reading over first (<see cref="ReaderHandoff"/>): no hop
/// to the thread pool for the call, and a grain that blocks holds one thread, not the connection. Only the thread
/// holding the reading role touches the receive buffer and the socket's reads. With silo-to-silo TLS the thread
/// shakes hands first and then reads through an <see cref="SslStream"/> (one copy more: decrypted into its buffer,
/// then into this one); a dialer speaking plain TCP is told so in plain TCP and refused.
/// </summary>
internal sealed class InboundConnection
{
    /// <summary>Receive buffer size; a frame larger than it gets a buffer of its own size while it arrives.</summary>
    private const int BufferSize = FrameBatch.SegmentSize;

    private readonly TcpSiloTransport _transport;
    private readonly Socket _socket;
    private readonly string _remote;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _closeReason;
    private SslStream? _tls;

    // The reading role: the receive buffer and the unread part of it, owned by whichever thread reads.
    private byte[] _buffer = [];
    private int _start;
    private int _end;

    // The standby thread waits on _roleGiven with _standbyWaiting set; the reader hands the role over by clearing
    // the flag and releasing the semaphore once (a count, not an event: the thread that just gave the role away
    // must not take it back before the standby woke). _ended tells a waiting or returning thread that it is over.
    private readonly SemaphoreSlim _roleGiven = new(0);
    private int _standbyWaiting;
    private volatile bool _ended;

    // Set while the hello is read: the refusal it gets, whatever it says (plain TCP to a TLS silo, a bad certificate).
    private string? _refusal;

    public InboundConnection(TcpSiloTransport transport, Socket socket)
    {
        _transport = transport;
        _socket = socket;
        _remote = socket.RemoteEndPoint?.ToString() ?? "an unknown endpoint";
    }

    /// <summary>The dialing silo, once its hello was read.</summary>
    public SiloAddress? Peer { get; private set; }

    public Task Completion => _completion.Task;

    public void Start()
    {
        var thread = new Thread(static s => ((InboundConnection)s!).Run()) { IsBackground = true, Name = $"silo-in {_remote}" };
        thread.UnsafeStart(this);
    }

    /// <summary>Closes the socket from this side; the read loop ends on its own and reports <paramref name="reason"/>.</summary>
    public void Close(Exception reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        GracefulClose.Close(_socket);
    }

    private void Run()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        SiloAddress from;
        try
        {
            if (_transport.Tls is { } tls && !OpenTls(tls))
            {
                End(null);
                return;
            }
            if (ReadHello() is not { } peer)
            {
                End(null);
                return;
            }
            from = peer;
            Peer = from;
            _transport.OnAccepted(this, _remote);
        }
        catch (Exception e)
        {
            End(new SiloUnavailableException($"connection from silo {Peer?.ToString() ?? _remote} broke: {e.Message}", e));
            return;
        }
        var standby = new Thread(static s => ((InboundConnection)s!).Standby()) { IsBackground = true, Name = $"silo-in {_remote} (standby)" };
        standby.UnsafeStart(this);
        Read(from);
    }

    /// <summary>The second thread: waits for the reading role, then reads.</summary>
    private void Standby()
    {
        if (WaitForRole()) Read(Peer!.Value);
    }

    /// <summary>Reads while this thread holds the role; after handing it over, waits to be given it again.</summary>
    private void Read(SiloAddress from)
    {
        var clean = ExecutionContext.Capture();
        while (true)
        {
            Exception? ended;
            try
            {
                ended = ReadFrames(from);
            }
            catch (Exception e)
            {
                ended = new SiloUnavailableException($"connection from silo {from} broke: {e.Message}", e);
            }
            if (ended is not null)
            {
                End(ended);
                return;
            }
            // Back from a grain's code: whatever it left in this thread's execution context (an AsyncLocal, a current
            // Activity) must not reach the next call this thread runs.
            if (clean is not null) ExecutionContext.Restore(clean);
            if (!WaitForRole()) return;
        }
    }

    /// <summary>False when the connection ended instead.</summary>
    private bool WaitForRole()
    {
        if (_ended) return false;
        Volatile.Write(ref _standbyWaiting, 1);
        _roleGiven.Wait();
        return !_ended;
    }

    /// <summary>Called by the reader, through <see cref="ReaderHandoff"/>, once the frame it delivers needs nothing more from the buffer.</summary>
    internal void HandOffReading()
    {
        Volatile.Write(ref _standbyWaiting, 0);
        _roleGiven.Release();
    }

    /// <summary>Run once, by the thread holding the reading role when the connection ends.</summary>
    private void End(Exception? reason)
    {
        _ended = true;
        _roleGiven.Release();
        ArrayPool<byte>.Shared.Return(_buffer);
        _tls?.Dispose();
        _socket.Dispose();
        _transport.OnClosed(this, Volatile.Read(ref _closeReason) ?? reason);
        _completion.TrySetResult();
    }

    private SiloAddress? ReadHello()
    {
        var timeout = _transport.Options.ConnectTimeout;
        _socket.ReceiveTimeout = (int)Math.Max(1, timeout.TotalMilliseconds);
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = Receive(_buffer, _end, _buffer.Length - _end);
                }
                catch (Exception e) when (IsTimeout(e))
                {
                    Refuse($"no hello within {timeout.TotalMilliseconds:0} ms");
                    return null;
                }
                if (n == 0) return null;  // closed before saying who it is: nothing to report
                _end += n;

                var received = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
                var status = FrameCodec.TryReadFrame(ref received, FrameCodec.MaxHelloLength, out var payload, out _);
                if (status == FrameStatus.Complete)
                {
                    if (FrameCodec.TryParseReject(_buffer.AsSpan(_start, _end - _start), out var dialerRefusal))
                    {
                        // The dialer refused this silo (its certificate) instead of saying hello.
                        _transport.OnRefusedByDialer(_remote, dialerRefusal);
                        return null;
                    }
                    var accepted = Accept(payload, out var from, out var refusal);
                    _start = _end - (int)received.Length;
                    if (accepted) return from;
                    Refuse(refusal, identity: _refusal is not null);
                    return null;
                }
                if (status == FrameStatus.TooLarge)
                {
                    var tlsOnPlain = _tls is null && LooksLikeTls(_buffer.AsSpan(_start, _end - _start));
                    Refuse(tlsOnPlain
                        ? "the dialer opened a TLS handshake but this silo has no silo-to-silo TLS (Platform:Cluster:Tls): every silo of a cluster needs the same setting"
                        : "the first frame is not a Platform silo hello", identity: tlsOnPlain);
                    return null;
                }
            }
        }
        finally
        {
            _socket.ReceiveTimeout = 0;
        }
    }

    private bool Accept(ReadOnlySequence<byte> hello, out SiloAddress from, out string refusal)
    {
        if (!FrameCodec.TryParseHello(hello, out from, out var to, out refusal)) return false;
        if (_refusal is not null)
        {
            refusal = $"silo {from}: {_refusal}";
            return false;
        }
        var local = _transport.LocalAddress;
        // A dialer holding a previous incarnation's address must not reach this one: its frames
        // (responses, correlation ids) belong to a silo that is gone. Generation 0 means "whoever is there".
        if (to.Generation != 0 && to.Generation != local.Generation)
        {
            refusal = $"silo {to} is gone: this endpoint is now silo {local} (generation {local.Generation})";
            return false;
        }
        return true;
    }

    /// <summary>The reason the connection ended, or null once this thread handed the reading role over.</summary>
    private Exception? ReadFrames(SiloAddress from)
    {
        var maxFrameSize = _transport.Options.MaxFrameSize;
        while (true)
        {
            // Every complete frame in the buffer is delivered before the next receive.
            var received = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            FrameStatus status;
            long length;
            while ((status = FrameCodec.TryReadFrame(ref received, maxFrameSize, out var payload, out length)) == FrameStatus.Complete)
            {
                if (received.Length > 0)
                {
                    _transport.Deliver(from, payload);
                    continue;
                }
                // The last frame held: what its delivery sends (a response, a resumed caller's next call) is written
                // by this thread at once, since no frame behind it could join the batch. With the standby free, a call
                // it makes may also run on this thread; the buffer is then left empty first, for the standby to read
                // into once the frame has been parsed.
                var handOff = Volatile.Read(ref _standbyWaiting) == 1;
                if (handOff)
                {
                    _start = _end;
                    ReaderHandoff.Arm(this);
                }
                var stillReading = true;
                OutboundConnection.WritesInline = true;
                try
                {
                    _transport.Deliver(from, payload);
                }
                finally
                {
                    OutboundConnection.WritesInline = false;
                    if (handOff) stillReading = ReaderHandoff.Disarm();
                }
                if (!stillReading) return null;
                if (handOff) break;
            }
            _start = _end - (int)received.Length;

            if (status == FrameStatus.TooLarge)
            {
                _transport.OnInboundFrameTooLarge(from, length);
                return new SiloUnavailableException(
                    $"silo {from} sent a frame of {length} bytes, over the limit of {maxFrameSize} bytes (TransportOptions.MaxFrameSize); its connection was closed");
            }

            // Room for the rest of the frame that started: in place, moved to the front, or in a larger buffer.
            if (_start == _end)
            {
                _start = _end = 0;
                if (_buffer.Length > BufferSize) Replace(BufferSize);
            }
            else
            {
                var needed = _end - _start < FrameCodec.PrefixLength ? FrameCodec.PrefixLength : (int)(FrameCodec.PrefixLength + length);
                if (needed > _buffer.Length) Replace(needed);
                else if (_start + needed > _buffer.Length)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
            }

            var n = Receive(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                return new SiloUnavailableException(_start == _end
                    ? $"connection from silo {from} was closed by the peer"
                    : $"connection from silo {from} was closed by the peer in the middle of a frame");
            }
            _end += n;
        }
    }

    private void Replace(int size)
    {
        var replacement = ArrayPool<byte>.Shared.Rent(size);
        Buffer.BlockCopy(_buffer, _start, replacement, 0, _end - _start);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = replacement;
        _end -= _start;
        _start = 0;
    }

    private int Receive(byte[] buffer, int offset, int count)
        => _tls is { } tls ? tls.Read(buffer, offset, count) : _socket.Receive(buffer, offset, count, SocketFlags.None);

    private static bool IsTimeout(Exception e)
        => (e as SocketException ?? e.InnerException as SocketException) is { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock };

    /// <summary>A TLS handshake record: content type 22, protocol major version 3.</summary>
    private static bool LooksLikeTls(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x16 && head[1] == 0x03;

    /// <summary>
    /// Shakes hands when the dialer speaks TLS; a dialer speaking plain TCP is read in plain TCP and refused with its hello.
    /// False when the connection ended here (no data, a failed handshake).
    /// </summary>
    private bool OpenTls(SiloTls tls)
    {
        var timeout = _transport.Options.ConnectTimeout;
        Span<byte> head = stackalloc byte[2];
        int n;
        _socket.ReceiveTimeout = (int)Math.Max(1, timeout.TotalMilliseconds);
        try
        {
            n = _socket.Receive(head, SocketFlags.Peek);
        }
        catch (SocketException e) when (IsTimeout(e))
        {
            // Closed without a reply: the dialer may be in a TLS handshake, where plain bytes would read as a broken one.
            _transport.OnRefused(_remote, $"no hello within {timeout.TotalMilliseconds:0} ms");
            return false;
        }
        finally
        {
            _socket.ReceiveTimeout = 0;
        }
        if (n == 0) return false;
        if (head[0] != 0x16 || n > 1 && head[1] != 0x03)
        {
            _refusal = "plain TCP; this silo takes silo-to-silo connections over TLS only (Platform:Cluster:Tls): every silo of a cluster needs a certificate of its CA";
            return true;
        }

        var check = new PeerCertificateCheck();
        var stream = new SslStream(new NetworkStream(_socket, ownsSocket: false), leaveInnerStreamOpen: false);
        // Synchronous, bounded by the socket's timeouts: an asynchronous handshake would switch the socket to
        // non-blocking mode for good, and every later blocking read would then wait on the socket engine's thread.
        _socket.ReceiveTimeout = _socket.SendTimeout = (int)Math.Max(1, timeout.TotalMilliseconds);
        try
        {
            stream.AuthenticateAsServer(SiloTls.ServerOptions(tls.ForNewConnection(), check));
        }
        catch (Exception e)
        {
            stream.Dispose();
            _transport.OnTlsHandshakeFailed(_remote, IsTimeout(e)
                ? $"no handshake within {timeout.TotalMilliseconds:0} ms (TransportOptions.ConnectTimeout)"
                : $"{e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}; the dialer may have refused this silo's certificate or may not be a silo");
            return false;
        }
        finally
        {
            _socket.ReceiveTimeout = _socket.SendTimeout = 0;
        }
        _tls = stream;
        _refusal = check.Problem;
        return true;
    }

    private void Refuse(string reason, bool identity = false)
    {
        _transport.OnRefused(_remote, reason);
        try
        {
            var reject = FrameCodec.EncodeReject(reason, identity);
            if (_tls is { } tls) tls.Write(reject);
            else _socket.Send(reject, SocketFlags.None);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // The dialer is already gone; it has nothing to be told.
        }
    }
}
