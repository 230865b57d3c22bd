using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Platform.Grains.Access;
using Platform.Grains.Keys;
using Platform.Silo.Access;
using Platform.Silo.Hosting;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// The etcd fast path: a connection middleware in front of Kestrel's HTTP/1.1 that answers plain <c>/v2/keys…</c>
/// reads, long polls and (where no token or write limit applies) writes itself (heads parsed by
/// <see cref="EtcdFastPathHead"/>, requests served by <see cref="EtcdKeysHandler"/>, a woken long poll's
/// <see cref="EtcdEventBytes"/> written straight to the socket) and gives the connection to Kestrel, untouched, at the
/// first request it does not take. Why and what: docs/keys.md.
/// </summary>
internal sealed partial class EtcdFastPath : IRingSendDone
{
    /// <summary>Puts the fast path in front of the HTTP layer of <paramref name="listen"/>.</summary>
    public static void Use(ListenOptions listen)
    {
        EtcdKeysHandler? handler = null;
        KestrelServerLimits? limits = null;
        ILogger? logger = null;
        AccessControl? access = null;
        RateLimitOptions? writeLimits = null;
        EtcdFastPathClock? clock = null;
        var ringLogger = listen.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<SendRing>();
        // Process-wide, as the wake threads are: the last silo started in a process decides, from each thread's next chunk.
        WakeBatch.Factory = listen.ApplicationServices.GetRequiredService<PlatformOptions>().FanOutRing ? () => SendRing.TryCreate(ringLogger) : null;
        listen.Use(next => context =>
        {
            handler ??= listen.ApplicationServices.GetRequiredService<EtcdKeysHandler>();
            limits ??= listen.ApplicationServices.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
            logger ??= listen.ApplicationServices.GetRequiredService<ILogger<EtcdFastPath>>();
            access ??= listen.ApplicationServices.GetRequiredService<AccessControl>();
            writeLimits ??= listen.ApplicationServices.GetRequiredService<AccessOptions>().RateLimit;
            clock ??= Clock(listen.ApplicationServices, limits);
            return new EtcdFastPath(context, next, handler, limits, logger, access, writeLimits, clock).RunAsync();
        });
    }

    /// <summary>The listener's clock, stopped with the application: an eighth of the shorter timeout, 1 to 5 s.</summary>
    private static EtcdFastPathClock Clock(IServiceProvider services, KestrelServerLimits limits)
    {
        var tick = TimeSpan.FromSeconds(Math.Clamp(Math.Min(limits.KeepAliveTimeout.TotalSeconds, limits.RequestHeadersTimeout.TotalSeconds) / 8, 1, 5));
        var clock = new EtcdFastPathClock(tick, TimeProvider.System);
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(clock.Dispose);
        return clock;
    }

    private static readonly byte[] s_lastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly ConnectionContext _context;
    private readonly ConnectionDelegate _next;
    private readonly EtcdKeysHandler _handler;
    private readonly ILogger _logger;
    private readonly KestrelServerLimits _limits;
    private readonly AccessControl _access;
    private readonly RateLimitOptions _writeLimits;
    private readonly EtcdHeadLimits _headLimits;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Socket? _socket;

    /// <summary>The socket's handle, kept so that a woken long poll's send on a ring reaches one object less.</summary>
    private readonly SafeSocketHandle? _socketHandle;
    private readonly EtcdFastPathClock _clock;

    /// <summary>When (<see cref="Environment.TickCount64"/>, ms) the connection closes unless something happens first.</summary>
    private long _deadline = long.MaxValue;

    private volatile bool _timedOut;
    private volatile bool _closing;

    /// <summary>A send failed: the client is gone (its read side says so soon).</summary>
    private volatile bool _gone;

    /// <summary>Bytes went through the transport's output once (the socket was full): from then on everything does, in order.</summary>
    private bool _piped;

    /// <summary>
    /// Whether the end of the waiting long poll went out (the connection has one at a time): 1 while it is out. The
    /// reader makes a task to wait on only when it must (<see cref="AnswerSentAsync"/>): a fan-out's completion then
    /// writes a field of the connection instead of completing a task per watcher.
    /// </summary>
    private int _answerPending;
    private TaskCompletionSource? _answerWaiter;

    /// <summary>The request being answered asked for the connection to close after it.</summary>
    private volatile bool _close;

    private EtcdFastPath(ConnectionContext context, ConnectionDelegate next, EtcdKeysHandler handler, KestrelServerLimits limits, ILogger logger, AccessControl access, RateLimitOptions writeLimits, EtcdFastPathClock clock)
    {
        _access = access;
        _writeLimits = writeLimits;
        _context = context;
        _next = next;
        _handler = handler;
        _logger = logger;
        _limits = limits;
        _headLimits = EtcdHeadLimits.From(limits);
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        _socketHandle = _socket?.SafeHandle;
        // A coarse clock instead of a cancellable timer per read: a woken long poll only moves the deadline.
        _clock = clock;
    }

    /// <summary>Closes the connection after <paramref name="span"/> unless the deadline moves; infinite: no deadline.</summary>
    private void CloseAfter(TimeSpan span) =>
        Volatile.Write(ref _deadline, span == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)span.TotalMilliseconds);

    /// <summary>The clock's tick: closes the connection if its deadline is past at <paramref name="now"/> (<see cref="Environment.TickCount64"/>).</summary>
    internal void CheckDeadline(long now)
    {
        if (now < Volatile.Read(ref _deadline)) return;
        _timedOut = true;
        _input.CancelPendingRead();
    }

    private async Task RunAsync()
    {
        _clock.Add(this);
        // A stopping server asks its connections to close: an idle one here closes at once.
        var closing = _context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested.UnsafeRegister(static c =>
        {
            var connection = (EtcdFastPath)c!;
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
                    _clock.Remove(this);
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
            _clock.Remove(this);
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
            // A request its token does not allow goes to the HTTP layer, whose access check answers, counts and logs it.
            if (parsed.Outcome == EtcdHeadOutcome.Taken && !Allowed(parsed.Head!)) parsed = EtcdHeadParse.HandOver("its token does not allow it");
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

    /// <summary>
    /// Whether access control lets this request through (the key as the HTTP layer's check reads it). A write is taken
    /// only where nothing would limit it: an open silo, no token, and a client whose address the write limits leave
    /// out (loopback, by default); anywhere else the HTTP layer's checks and buckets decide it.
    /// </summary>
    private bool Allowed(EtcdFastPathHead head)
    {
        if (head.IsWrite)
            return _access.IsOpen && head.Authorization is null
                && !AccessRateLimits.CountsAddress(_writeLimits, (_context.RemoteEndPoint as System.Net.IPEndPoint)?.Address, hook: false);
        if (_access.IsOpen) return true;
        string? key;
        try
        {
            key = KeyPath.TryNormalize(EtcdEndpoints.RawKey(EtcdForm.DecodePath(head.Path)), out var normal, out _) ? normal : null;
        }
        catch (KeyException)
        {
            key = null;
        }
        return _access.Allows(head.Authorization, AccessScopes.KeysRead, key);
    }

    /// <summary>Answers one taken request; false when the connection should close.</summary>
    private async ValueTask<bool> AnswerAsync(EtcdFastPathHead head)
    {
        _close = head.Close;
        EtcdReply reply;
        try
        {
            var form = head.Form;
            if (head.BodyLength > 0 || head.FormBody)
            {
                var body = head.BodyLength == 0 ? "" : await ReadBodyAsync(head);
                if (body is null) return false;
                if (head.FormBody) form = EtcdForm.FromBodyAndQuery(body, head.Query);
            }
            reply = form is null
                ? EtcdReply.Error(head.FormError!)
                : await _handler.HandleAsync(head.Method, EtcdForm.DecodePath(head.Path), form, head.Authorization);
        }
        catch (KeyException e)
        {
            reply = EtcdReply.Error(e);
        }
        if (reply.Watch is { } watch) return await WaitAsync(watch, reply);
        return await SendAsync(EtcdResponseBytes.Response(reply, _close));
    }

    /// <summary>
    /// Reads the body that follows a taken head: its text (bytes as Latin-1, as the HTTP layer's form reader decodes
    /// them) for a form, "" otherwise; null when the connection ends or times out first.
    /// </summary>
    private async ValueTask<string?> ReadBodyAsync(EtcdFastPathHead head)
    {
        CloseAfter(_limits.RequestHeadersTimeout);
        while (true)
        {
            var read = await _input.ReadAsync();
            var buffer = read.Buffer;
            if (buffer.Length >= head.BodyLength)
            {
                var body = buffer.Slice(0, head.BodyLength);
                var text = head.FormBody ? Encoding.Latin1.GetString(body) : "";
                _input.AdvanceTo(body.End);
                CloseAfter(Timeout.InfiniteTimeSpan);
                return text;
            }
            if (read.IsCanceled || read.IsCompleted)
            {
                _input.AdvanceTo(buffer.Start);
                return null;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Sends the head of a long poll, then leaves its end to the hub's delivery while it watches the client.</summary>
    private async ValueTask<bool> WaitAsync(KeyWatch watch, EtcdReply reply)
    {
        using var _ = watch;
        // The head goes out as soon as the watch is registered, as etcd flushes it.
        if (!await SendAsync(EtcdResponseBytes.Head(reply, contentLength: -1, _close).WrittenMemory, last: false)) return false;
        _answerWaiter = null;
        Volatile.Write(ref _answerPending, 1);
        watch.OnCompleted(static (e, connection) => ((EtcdFastPath)connection!).Finish(e), this);

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
            await AnswerSentAsync();
            return false;
        }
        // A request sent before the answer: it waits for the answer to have gone out.
        await AnswerSentAsync();
        return !_gone && !_close;
    }
}
