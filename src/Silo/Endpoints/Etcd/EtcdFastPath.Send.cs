using System.Net.Sockets;
using Platform.Grains.Keys;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>Sending: straight to the socket without blocking, the rest through the transport's output, in order.</summary>
internal sealed partial class EtcdFastPath
{
    /// <summary>The hub's delivery (or the watch's end): sends the event's last chunk, or the empty end of a closed watch.</summary>
    private void Finish(KeyWatchEvent? e)
    {
        var sent = _sent!;
        try
        {
            var bytes = e is null ? s_lastChunk : EtcdEventBytes.Of(e).LastChunk;
            if (_gone) sent.TrySetResult();
            else if (TrySendNow(bytes, out var rest)) sent.TrySetResult();
            else _ = SendRestAsync(rest, sent);
            if (_close) _input.CancelPendingRead();
            else CloseAfter(_limits.KeepAliveTimeout);
        }
        catch (ObjectDisposedException)
        {
            sent.TrySetResult();
        }
    }

    private async Task SendRestAsync(ReadOnlyMemory<byte> rest, TaskCompletionSource sent)
    {
        try
        {
            await PipeAsync(rest);
        }
        catch (Exception e)
        {
            // The client is gone; its read side ends the connection.
            LogSendFailed(_logger, e, _context.ConnectionId);
            _gone = true;
        }
        finally
        {
            sent.TrySetResult();
        }
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> to the socket without blocking; false with the part left when the socket
    /// cannot take it all (or there is no socket), which then goes through the transport's output.
    /// </summary>
    private bool TrySendNow(ReadOnlyMemory<byte> bytes, out ReadOnlyMemory<byte> rest)
    {
        rest = bytes;
        if (_socket is null || _piped) return false;
        switch (SocketSend.Try(_socket, bytes.Span, out var sent, out _))
        {
            case SocketSendResult.Sent:
                return true;
            case SocketSendResult.Gone:
                _gone = true;
                return true;
            default:
                rest = bytes[sent..];
                return false;
        }
    }

    private async ValueTask PipeAsync(ReadOnlyMemory<byte> bytes)
    {
        _piped = true;
        var flushed = await _output.WriteAsync(bytes);
        if (flushed.IsCompleted || flushed.IsCanceled) _gone = true;
    }

    /// <summary>Sends a whole response (or a head); false when the client is gone.</summary>
    private async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> bytes, bool last = true)
    {
        if (!TrySendNow(bytes, out var rest)) await PipeAsync(rest);
        return !_gone && !(last && _close);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "etcd fast path, connection {ConnectionId}: sending the end of a long poll failed; the connection closes")]
    private static partial void LogSendFailed(ILogger logger, Exception failure, string connectionId);
}
