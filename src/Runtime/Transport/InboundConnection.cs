using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>
/// A connection a peer dialed: its hello names the peer, then every frame read is handed to the
/// frame handler as a slice of the pipe's buffer, in order, on this connection's one read loop.
/// </summary>
internal sealed class InboundConnection
{
    private readonly TcpSiloTransport _transport;
    private readonly Socket _socket;
    private readonly string _remote;
    private Exception? _closeReason;

    public InboundConnection(TcpSiloTransport transport, Socket socket)
    {
        _transport = transport;
        _socket = socket;
        _remote = socket.RemoteEndPoint?.ToString() ?? "an unknown endpoint";
    }

    /// <summary>The dialing silo, once its hello was read.</summary>
    public SiloAddress? Peer { get; private set; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>Closes the socket from this side; the read loop ends on its own and reports <paramref name="reason"/>.</summary>
    public void Close(Exception reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        GracefulClose.Close(_socket);
    }

    private async Task RunAsync()
    {
        var reader = PipeReader.Create(new NetworkStream(_socket, ownsSocket: true),
            new StreamPipeReaderOptions(bufferSize: FrameBatch.SegmentSize, minimumReadSize: 4096));
        Exception? reason = null;
        try
        {
            var peer = await ReadHelloAsync(reader);
            if (peer is not { } from) return;
            Peer = from;
            _transport.OnAccepted(this, _remote);
            reason = await ReadFramesAsync(reader, from);
        }
        catch (Exception e)
        {
            reason = new SiloUnavailableException($"connection from silo {Peer?.ToString() ?? _remote} broke: {e.Message}", e);
        }
        finally
        {
            await reader.CompleteAsync();
            _socket.Dispose();
            _transport.OnClosed(this, Volatile.Read(ref _closeReason) ?? reason);
        }
    }

    private async Task<SiloAddress?> ReadHelloAsync(PipeReader reader)
    {
        using var timeout = new CancellationTokenSource(_transport.Options.ConnectTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                await RefuseAsync($"no hello within {_transport.Options.ConnectTimeout.TotalMilliseconds:0} ms");
                return null;
            }

            var buffer = result.Buffer;
            var status = FrameCodec.TryReadFrame(ref buffer, FrameCodec.MaxHelloLength, out var payload, out _);
            if (status == FrameStatus.Complete)
            {
                var accepted = Accept(payload, out var from, out var refusal);
                reader.AdvanceTo(buffer.Start);
                if (accepted) return from;
                await RefuseAsync(refusal);
                return null;
            }
            if (status == FrameStatus.TooLarge)
            {
                await RefuseAsync("the first frame is not a Platform silo hello");
                return null;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) return null;  // closed before saying who it is: nothing to report
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

    private async Task<Exception> ReadFramesAsync(PipeReader reader, SiloAddress from)
    {
        var maxFrameSize = _transport.Options.MaxFrameSize;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            FrameStatus status;
            long length;
            while ((status = FrameCodec.TryReadFrame(ref buffer, maxFrameSize, out var payload, out length)) == FrameStatus.Complete)
                _transport.Deliver(from, payload);

            if (status == FrameStatus.TooLarge)
            {
                _transport.OnInboundFrameTooLarge(from, length);
                reader.AdvanceTo(buffer.Start);
                return new SiloUnavailableException(
                    $"silo {from} sent a frame of {length} bytes, over the limit of {maxFrameSize} bytes (TransportOptions.MaxFrameSize); its connection was closed");
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return new SiloUnavailableException(buffer.IsEmpty
                    ? $"connection from silo {from} was closed by the peer"
                    : $"connection from silo {from} was closed by the peer in the middle of a frame");
            }
        }
    }

    private async Task RefuseAsync(string reason)
    {
        _transport.OnRefused(_remote, reason);
        try
        {
            await _socket.SendAsync(FrameCodec.EncodeReject(reason), SocketFlags.None);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The dialer is already gone; it has nothing to be told.
        }
    }
}
