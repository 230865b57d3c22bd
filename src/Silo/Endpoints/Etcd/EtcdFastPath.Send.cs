using System.Net.Sockets;
using Platform.Grains.Keys;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>Sending: straight to the socket without blocking, the rest through the transport's output, in order.</summary>
internal sealed partial class EtcdFastPath
{
    /// <summary>
    /// The hub's delivery (or the watch's end): sends the event's last chunk, or the empty end of a closed watch. On a
    /// wake thread with a send ring the send joins the chunk's, and the rest follows when the ring answers.
    /// </summary>
    private void Finish(KeyWatchEvent? e)
    {
        var bytes = e is null ? s_lastChunk : EtcdEventBytes.Of(e).LastChunk;
        if (!_gone && _socketHandle is not null && !_piped && WakeBatch.Current is SendRing ring && ring.TryQueue(_socketHandle, bytes, this)) return;
        var rest = ReadOnlyMemory<byte>.Empty;
        if (!_gone) TrySendNow(bytes, out rest);
        Finished(rest);
    }

    void IRingSendDone.Sent(SocketSendResult result, ReadOnlyMemory<byte> rest)
    {
        if (result == SocketSendResult.Gone) _gone = true;
        Finished(rest);
    }

    /// <summary>The long poll's end went to the socket, all of it or up to <paramref name="rest"/>, which goes through the transport's output.</summary>
    private void Finished(ReadOnlyMemory<byte> rest)
    {
        try
        {
            // Before the end counts as sent: from then on the reader may take the next request, whose deadline (none,
            // for a long poll) this one must not overwrite.
            if (_close) _input.CancelPendingRead();
            else CloseAfter(_limits.KeepAliveTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
        if (rest.IsEmpty) AnswerSent();
        else _ = SendRestAsync(rest);
    }

    private async Task SendRestAsync(ReadOnlyMemory<byte> rest)
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
            AnswerSent();
        }
    }

    /// <summary>The long poll's end went out (or never will): a reader waiting for it goes on.</summary>
    private void AnswerSent()
    {
        // A full fence between clearing the flag and looking for a waiter, as the reader has between the two.
        Interlocked.Exchange(ref _answerPending, 0);
        Volatile.Read(ref _answerWaiter)?.TrySetResult();
    }

    /// <summary>Completes once the long poll's end went out; a task is made only if it has not yet.</summary>
    private Task AnswerSentAsync()
    {
        if (Volatile.Read(ref _answerPending) == 0) return Task.CompletedTask;
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _answerWaiter, waiter);
        return Volatile.Read(ref _answerPending) == 0 ? Task.CompletedTask : waiter.Task;
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> to the socket without blocking: true when nothing is left to send (all sent, or
    /// the client is gone); false with the part left when the socket cannot take it all (or there is no socket), which
    /// then goes through the transport's output.
    /// </summary>
    private bool TrySendNow(ReadOnlyMemory<byte> bytes, out ReadOnlyMemory<byte> rest)
    {
        rest = ReadOnlyMemory<byte>.Empty;
        if (_socket is null || _piped)
        {
            rest = bytes;
            return false;
        }
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
