using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// The short path for etcd reads and long polls: a connection middleware in front of Kestrel's HTTP/1.1 that
/// answers plain <c>GET /v2/keys…</c> requests itself and gives the connection to Kestrel, untouched, at the first
/// request it does not take.
/// </summary>
/// <remarks>
/// <para>Why: a woken long poll is one small write per watcher, and a fan-out to thousands of watchers is bound by
/// what each costs. Through the HTTP layer each one finishes a response, resumes a handler and readies the
/// connection for the next request, several thread-pool hops in all; here the hub's delivery writes the event's
/// shared bytes (<see cref="EtcdEventBytes"/>) straight to the socket without blocking, split over the
/// cores, and nothing else happens until the client's next request arrives.</para>
/// <para>What it takes: a request head with <c>GET</c>, an origin-form target on <c>/v2/keys</c>, <c>HTTP/1.1</c>, one
/// plain <c>Host</c>, no body, no <c>Transfer-Encoding</c>, <c>Expect</c>, <c>Upgrade</c> or <c>Connection</c> other
/// than keep-alive or close, only visible ASCII, and no <c>stream</c> parameter. Anything else (TLS, HTTP/2, other methods
/// and paths, odd or oversized heads) goes to Kestrel with every byte still unread, and Kestrel keeps the connection
/// from then on. The answers are the same bytes the <see cref="EtcdEndpoints"/> write, headers in Kestrel's order;
/// idle and slow heads time out as Kestrel's limits say, and a stopping server closes idle connections.</para>
/// </remarks>
internal sealed partial class EtcdConnection
{
    /// <summary>Puts the short path in front of the HTTP layer of <paramref name="listen"/>.</summary>
    public static void Use(ListenOptions listen)
    {
        EtcdKeysHandler? handler = null;
        KestrelServerLimits? limits = null;
        ILogger? logger = null;
        listen.Use(next => context =>
        {
            handler ??= listen.ApplicationServices.GetRequiredService<EtcdKeysHandler>();
            limits ??= listen.ApplicationServices.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
            logger ??= listen.ApplicationServices.GetRequiredService<ILogger<EtcdConnection>>();
            return new EtcdConnection(context, next, handler, limits, logger).RunAsync();
        });
    }

    private static readonly byte[] s_lastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly ConnectionContext _context;
    private readonly ConnectionDelegate _next;
    private readonly EtcdKeysHandler _handler;
    private readonly ILogger _logger;
    private readonly KestrelServerLimits _limits;
    private readonly EtcdHeadLimits _headLimits;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Socket? _socket;
    private readonly ITimer _clock;

    /// <summary>When (<see cref="Environment.TickCount64"/>, ms) the connection closes unless something happens first.</summary>
    private long _deadline = long.MaxValue;

    private volatile bool _timedOut;
    private volatile bool _closing;

    /// <summary>A send failed: the client is gone (its read side says so soon).</summary>
    private volatile bool _gone;

    /// <summary>Bytes went through the transport's output once (the socket was full): from then on everything does, in order.</summary>
    private bool _piped;

    /// <summary>Completed once the end of the waiting long poll went out (the connection has one at a time).</summary>
    private TaskCompletionSource? _sent;

    /// <summary>The request being answered asked for the connection to close after it.</summary>
    private volatile bool _close;

    private EtcdConnection(ConnectionContext context, ConnectionDelegate next, EtcdKeysHandler handler, KestrelServerLimits limits, ILogger logger)
    {
        _context = context;
        _next = next;
        _handler = handler;
        _logger = logger;
        _limits = limits;
        _headLimits = EtcdHeadLimits.From(limits);
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        // A coarse clock instead of a cancellable timer per read: a woken long poll only moves the deadline.
        var tick = TimeSpan.FromSeconds(Math.Clamp(Math.Min(limits.KeepAliveTimeout.TotalSeconds, limits.RequestHeadersTimeout.TotalSeconds) / 8, 1, 5));
        _clock = TimeProvider.System.CreateTimer(static c => ((EtcdConnection)c!).Tick(), this, tick, tick);
    }

    /// <summary>Closes the connection after <paramref name="span"/> unless the deadline moves; infinite: no deadline.</summary>
    private void CloseAfter(TimeSpan span) =>
        Volatile.Write(ref _deadline, span == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)span.TotalMilliseconds);

    private void Tick()
    {
        if (Environment.TickCount64 < Volatile.Read(ref _deadline)) return;
        _timedOut = true;
        _input.CancelPendingRead();
    }

    private async Task RunAsync()
    {
        // A stopping server asks its connections to close: an idle one here closes at once.
        var closing = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.UnsafeRegister(static c =>
        {
            var connection = (EtcdConnection)c!;
            connection._closing = true;
            connection._input.CancelPendingRead();
        }, this);
        try
        {
            while (true)
            {
                if (await ReadHeadAsync() is not { } parsed) return;
                if (parsed.Head is not { } head)
                {
                    closing?.Dispose();
                    closing = null;
                    // Kestrel's reads are its own from here: no deadline of ours may cancel one.
                    CloseAfter(Timeout.InfiniteTimeSpan);
                    _clock.Dispose();
                    await _next(_context);
                    return;
                }
                if (_socket is { Blocking: true } socket)
                {
                    // Kestrel only sends and receives asynchronously, which this does not change; a send of ours
                    // that would block returns at once, and the rest goes through the transport's output.
                    socket.Blocking = false;
                }
                if (!await AnswerAsync(head)) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException or SocketException)
        {
            // A client that went away, an idle or slow connection timed out, or a stopping server: close.
        }
        finally
        {
            closing?.Dispose();
            _clock.Dispose();
        }
    }

    /// <summary>The next request head, consumed if taken, unread if handed over; null when the connection should close (gone, idle, stopping).</summary>
    private async ValueTask<EtcdHeadParse?> ReadHeadAsync()
    {
        var idle = true;
        CloseAfter(_limits.KeepAliveTimeout);
        while (true)
        {
            var read = await _input.ReadAsync();
            var buffer = read.Buffer;
            if (read.IsCanceled && (_closing || _timedOut) || (read.IsCompleted && buffer.IsEmpty))
            {
                _input.AdvanceTo(buffer.Start);
                return null;
            }
            if (!buffer.IsEmpty && idle)
            {
                idle = false;
                CloseAfter(_limits.RequestHeadersTimeout);
            }
            var parsed = EtcdFastPathHead.Parse(buffer, _headLimits);
            if (parsed.Outcome == EtcdHeadOutcome.Taken)
            {
                _input.AdvanceTo(buffer.GetPosition(parsed.Head!.Length));
                CloseAfter(Timeout.InfiniteTimeSpan);
                return parsed;
            }
            if (parsed.Outcome == EtcdHeadOutcome.HandOver || read.IsCompleted)
            {
                // Kestrel answers what this path does not take (400, 414, 431, …) and closes on a truncated head.
                _input.AdvanceTo(buffer.Start);
                return parsed with { Outcome = EtcdHeadOutcome.HandOver };
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Answers one taken request; false when the connection should close.</summary>
    private async ValueTask<bool> AnswerAsync(EtcdFastPathHead head)
    {
        _close = head.Close;
        EtcdReply reply;
        try
        {
            reply = head.FormError is { } malformed
                ? EtcdReply.Error(malformed)
                : await _handler.HandleAsync("GET", EtcdForm.DecodePath(head.Path), head.Form!, head.Authorization);
        }
        catch (KeyException e)
        {
            reply = EtcdReply.Error(e);
        }
        if (reply.Watch is { } watch) return await WaitAsync(watch, reply);
        return await SendAsync(Response(reply, _close));
    }

    /// <summary>Sends the head of a long poll, then leaves its end to the hub's delivery while it watches the client.</summary>
    private async ValueTask<bool> WaitAsync(KeyWatch watch, EtcdReply reply)
    {
        using var _ = watch;
        // The head goes out as soon as the watch is registered, as etcd flushes it.
        if (!await SendAsync(Head(reply, contentLength: -1, _close).WrittenMemory, last: false)) return false;
        var sent = _sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watch.OnCompleted(static (e, connection) => ((EtcdConnection)connection!).Finish(e), this);

        // The next request (or the client going away) is what comes next on the connection; an answer that closes
        // the connection cancels this read.
        var read = await _input.ReadAsync();
        var nothing = read.Buffer.IsEmpty;
        _input.AdvanceTo(read.Buffer.Start);
        if (read.IsCanceled || read.IsCompleted && nothing)
        {
            // Gone, stopping, or answered with Connection: close: the watch leaves the hub (its end is sent if not
            // yet, for a server that stops).
            if (read.IsCompleted && nothing) _gone = true;
            watch.Dispose();
            await sent.Task;
            return false;
        }
        // A request sent before the answer: it waits for the answer to have gone out.
        await sent.Task;
        return !_gone && !_close;
    }

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
        int sent;
        SocketError error;
        try
        {
            sent = _socket.Send(bytes.Span, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            _gone = true;
            return true;
        }
        if (error == SocketError.Success && sent == bytes.Length) return true;
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            _gone = true;
            return true;
        }
        rest = bytes[Math.Max(sent, 0)..];
        return false;
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

    /// <summary>A complete response as the keys endpoint writes it.</summary>
    private static ReadOnlyMemory<byte> Response(EtcdReply reply, bool close)
    {
        var response = Head(reply, reply.Body.Length, close);
        response.Write(reply.Body.Span);
        return response.WrittenMemory;
    }

    /// <summary>Status line and headers, in the order Kestrel writes them; <paramref name="contentLength"/> -1 is chunked.</summary>
    private static ArrayBufferWriter<byte> Head(EtcdReply reply, int contentLength, bool close)
    {
        var w = new ArrayBufferWriter<byte>(320 + Math.Max(contentLength, 0));
        Text(w, "HTTP/1.1 ");
        Number(w, (ulong)reply.Status);
        Text(w, " ");
        Text(w, ReasonPhrases.GetReasonPhrase(reply.Status));
        if (contentLength >= 0)
        {
            Text(w, "\r\nContent-Length: ");
            Number(w, (ulong)contentLength);
        }
        if (close) Text(w, "\r\nConnection: close");
        Text(w, "\r\nContent-Type: application/json\r\nDate: ");
        w.Write(HttpDate.Now);
        if (contentLength < 0) Text(w, "\r\nTransfer-Encoding: chunked");
        Text(w, "\r\nX-Etcd-Cluster-Id: ");
        Text(w, EtcdEndpoints.ClusterId);
        Text(w, "\r\nX-Etcd-Index: ");
        Number(w, reply.Index);
        if (reply.Term is { } t)
        {
            Text(w, "\r\nX-Raft-Index: ");
            Number(w, reply.Index);
            Text(w, "\r\nX-Raft-Term: ");
            Number(w, (ulong)t);
        }
        Text(w, "\r\n\r\n");
        return w;
    }

    private static void Text(ArrayBufferWriter<byte> w, string text)
    {
        var span = w.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        w.Advance(n);
    }

    private static void Number(ArrayBufferWriter<byte> w, ulong value)
    {
        var span = w.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var n);
        w.Advance(n);
    }

    /// <summary>The <c>Date</c> header's value, formatted once a second.</summary>
    private static class HttpDate
    {
        private sealed record Stamp(long Second, byte[] Value);

        private static volatile Stamp s_current = new(-1, []);

        public static byte[] Now
        {
            get
            {
                var now = DateTimeOffset.UtcNow;
                var second = now.ToUnixTimeSeconds();
                var current = s_current;
                if (current.Second == second) return current.Value;
                var value = Encoding.ASCII.GetBytes(now.ToString("r", CultureInfo.InvariantCulture));
                s_current = new Stamp(second, value);
                return value;
            }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "etcd fast path, connection {ConnectionId}: sending the end of a long poll failed; the connection closes")]
    private static partial void LogSendFailed(ILogger logger, Exception failure, string connectionId);
}
