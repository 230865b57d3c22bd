using System.Buffers;
using System.Net.Sockets;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>
/// A connection a peer dialed: its hello names the peer, then every frame read is handed to the
/// frame handler as a slice of the receive buffer, in order, on this connection's one reading thread.
/// The thread blocks in the socket's receive, so an arriving frame wakes it directly: no wake-up of the
/// socket engine's event thread and then of a pool thread per read (two hand-offs where one does).
/// A silo has one such connection per peer, so a thread each is affordable.
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
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        Exception? reason = null;
        try
        {
            var start = 0;
            var end = 0;
            var peer = ReadHello(ref buffer, ref start, ref end);
            if (peer is not { } from) return;
            Peer = from;
            _transport.OnAccepted(this, _remote);
            reason = ReadFrames(ref buffer, start, end, from);
        }
        catch (Exception e)
        {
            reason = new SiloUnavailableException($"connection from silo {Peer?.ToString() ?? _remote} broke: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _socket.Dispose();
            _transport.OnClosed(this, Volatile.Read(ref _closeReason) ?? reason);
            _completion.TrySetResult();
        }
    }

    private SiloAddress? ReadHello(ref byte[] buffer, ref int start, ref int end)
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
                    n = _socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
                {
                    Refuse($"no hello within {timeout.TotalMilliseconds:0} ms");
                    return null;
                }
                if (n == 0) return null;  // closed before saying who it is: nothing to report
                end += n;

                var received = new ReadOnlySequence<byte>(buffer, start, end - start);
                var status = FrameCodec.TryReadFrame(ref received, FrameCodec.MaxHelloLength, out var payload, out _);
                if (status == FrameStatus.Complete)
                {
                    var accepted = Accept(payload, out var from, out var refusal);
                    start = end - (int)received.Length;
                    if (accepted) return from;
                    Refuse(refusal);
                    return null;
                }
                if (status == FrameStatus.TooLarge)
                {
                    Refuse("the first frame is not a Platform silo hello");
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

    private Exception ReadFrames(ref byte[] buffer, int start, int end, SiloAddress from)
    {
        var maxFrameSize = _transport.Options.MaxFrameSize;
        while (true)
        {
            // Every complete frame in the buffer is delivered before the next receive.
            var received = new ReadOnlySequence<byte>(buffer, start, end - start);
            FrameStatus status;
            long length;
            while ((status = FrameCodec.TryReadFrame(ref received, maxFrameSize, out var payload, out length)) == FrameStatus.Complete)
                _transport.Deliver(from, payload);
            start = end - (int)received.Length;

            if (status == FrameStatus.TooLarge)
            {
                _transport.OnInboundFrameTooLarge(from, length);
                return new SiloUnavailableException(
                    $"silo {from} sent a frame of {length} bytes, over the limit of {maxFrameSize} bytes (TransportOptions.MaxFrameSize); its connection was closed");
            }

            // Room for the rest of the frame that started: in place, moved to the front, or in a larger buffer.
            if (start == end)
            {
                start = end = 0;
                if (buffer.Length > BufferSize) Replace(ref buffer, BufferSize, ref start, ref end);
            }
            else
            {
                var needed = end - start < FrameCodec.PrefixLength ? FrameCodec.PrefixLength : (int)(FrameCodec.PrefixLength + length);
                if (needed > buffer.Length) Replace(ref buffer, needed, ref start, ref end);
                else if (start + needed > buffer.Length)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
            }

            var n = _socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
            if (n == 0)
            {
                return new SiloUnavailableException(start == end
                    ? $"connection from silo {from} was closed by the peer"
                    : $"connection from silo {from} was closed by the peer in the middle of a frame");
            }
            end += n;
        }
    }

    private static void Replace(ref byte[] buffer, int size, ref int start, ref int end)
    {
        var replacement = ArrayPool<byte>.Shared.Rent(size);
        Buffer.BlockCopy(buffer, start, replacement, 0, end - start);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = replacement;
        end -= start;
        start = 0;
    }

    private void Refuse(string reason)
    {
        _transport.OnRefused(_remote, reason);
        try
        {
            _socket.Send(FrameCodec.EncodeReject(reason), SocketFlags.None);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The dialer is already gone; it has nothing to be told.
        }
    }
}
