using System.Net.Sockets;
using System.Net.WebSockets;
using Platform.Silo.Hosting;

namespace Platform.Silo.Agents;

/// <summary>
/// The stream under an agent's WebSocket on a plain listener. Reads go through Kestrel's upgraded connection; once
/// <see cref="WriteDirect"/> is called, writes go straight to the socket without blocking (no output pipe and no hop to
/// Kestrel's I/O thread: a pong or a fanned-out event is one <c>send</c> on the thread that has it), and the part the
/// socket cannot take at once follows with the socket's own asynchronous send. The WebSocket writes one frame at a
/// time and waits for it, so no write passes one still in flight. On TLS there is no socket to write to: everything
/// goes through Kestrel.
/// </summary>
internal sealed class AgentStream : Stream
{
    private readonly Stream _inner;
    private readonly Socket? _socket;
    private volatile bool _direct;

    /// <summary>Cancelled when the WebSocket is aborted or disposed: a send waiting for a reader that never reads ends with it.</summary>
    private readonly CancellationTokenSource _disposed = new();

    private readonly Action? _abortConnection;

    /// <param name="inner">Kestrel's upgraded connection.</param>
    /// <param name="socket">Its socket; null on TLS.</param>
    /// <param name="abortConnection">Aborts the HTTP connection (<see cref="HttpContext.Abort"/>).</param>
    public AgentStream(Stream inner, Socket? socket, Action? abortConnection = null)
    {
        _inner = inner;
        _socket = socket;
        _abortConnection = abortConnection;
    }

    /// <summary>
    /// The WebSocket over this stream. Kestrel's upgraded stream does nothing when disposed (it cannot tell a graceful
    /// end from an abort), so an aborted WebSocket aborts the connection here, as ASP.NET Core's own acceptance does:
    /// without it, a read waiting on an agent that went silent would never end.
    /// </summary>
    public WebSocket? Owner { get; set; }

    /// <summary>Writes since then that had to wait for room in the socket (a slow reader), for tests and diagnostics.</summary>
    public int PartialWrites => Volatile.Read(ref _partialWrites);

    /// <summary>Writes go straight to the socket (after <see cref="WriteDirect"/>, on a listener that has one).</summary>
    public bool Direct => _direct;

    private int _partialWrites;

    /// <summary>
    /// From now on writes go to the socket. Called once the agent has sent its first frame: it read the 101 response
    /// before it wrote, so none of Kestrel's bytes can still be queued behind ours.
    /// </summary>
    public void WriteDirect()
    {
        if (_socket is null || _direct) return;
        // Kestrel only sends and receives asynchronously, which this does not change; a send of ours that would block
        // returns at once, and the rest follows asynchronously.
        _socket.Blocking = false;
        _direct = true;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_direct) return _inner.WriteAsync(buffer, cancellationToken);
        switch (SocketSend.Try(_socket!, buffer.Span, out var sent, out var error))
        {
            case SocketSendResult.Sent:
                return ValueTask.CompletedTask;
            case SocketSendResult.Gone:
                return ValueTask.FromException(new IOException($"sending to the agent failed: {error}", new SocketException((int)error)));
            default:
                Interlocked.Increment(ref _partialWrites);
                return SendRestAsync(buffer[sent..], cancellationToken);
        }
    }

    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> rest, CancellationToken cancellationToken)
    {
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token) : null;
        try
        {
            while (!rest.IsEmpty) rest = rest[await _socket!.SendAsync(rest, SocketFlags.None, linked?.Token ?? _disposed.Token)..];
        }
        catch (SocketException e)
        {
            throw new IOException($"sending to the agent failed: {e.SocketErrorCode}", e);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => _direct ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

    public override void Flush()
    {
        if (!_direct) _inner.Flush();
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Abandon();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Abandon();
        return _inner.DisposeAsync();
    }

    private void Abandon()
    {
        _disposed.Cancel();
        if (Owner?.State == WebSocketState.Aborted) _abortConnection?.Invoke();
    }
}
