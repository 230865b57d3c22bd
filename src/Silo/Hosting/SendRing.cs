using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Platform.Grains.Keys;

namespace Platform.Silo.Hosting;

/// <summary>Where a send queued on a <see cref="SendRing"/> hears how it went.</summary>
internal interface IRingSendDone
{
    /// <summary>
    /// On the ring's thread, when the chunk's sends are flushed: what the send came to, and the bytes the socket did
    /// not take (empty unless <see cref="SocketSendResult.Partial"/>). Must not throw.
    /// </summary>
    void Sent(SocketSendResult result, ReadOnlyMemory<byte> rest);
}

/// <summary>
/// A wake thread's non-blocking sends, queued while it completes a chunk of watches and handed to the kernel in one
/// system call at the chunk's end (Linux io_uring). Each is the same <c>send</c> as <see cref="SocketSend"/>'s, but
/// the kernel is entered once per chunk instead of once per watcher (BENCHMARKS.md). One per wake thread, used only
/// on it. A queued send holds a reference on its socket's handle and pins its bytes until the kernel answered: a
/// socket disposed meanwhile keeps its descriptor until then, so the number cannot be reused under the send.
/// </summary>
internal sealed unsafe partial class SendRing : IWakeBatch
{
    /// <summary>Sends one ring holds: the wake threads' chunk, so a chunk never waits for room.</summary>
    public const int Entries = 64;

    private static long s_sent;

    private readonly int _ring;
    private readonly ILogger _logger;
    private readonly Mapping _mapping;
    private readonly uint* _sqHead, _sqTail, _cqHead, _cqTail;
    private readonly uint _sqMask, _cqMask;
    private readonly Sqe* _sqes;
    private readonly Cqe* _cqes;
    private readonly Pending[] _pending = new Pending[Entries];
    private uint _tail;
    private int _count;

    /// <summary>The array the last send's bytes lie in, pinned by an earlier send of this flush, and where it starts.</summary>
    private byte[]? _pinnedArray;
    private byte* _pinnedAt;
    private bool _broken;
    private bool _disposed;

    private struct Pending
    {
        public SafeSocketHandle Handle;
        public MemoryHandle Pin;
        public ReadOnlyMemory<byte> Bytes;
        public IRingSendDone Done;
        public int Result;
    }

    /// <summary>Sends that went through a ring and were answered, in this process (a metric).</summary>
    public static long Sent => Interlocked.Read(ref s_sent);

    private SendRing(int ring, in Params p, Mapping mapping, ILogger logger)
    {
        var sq = mapping.Sq;
        var cq = mapping.Cq;
        var sqes = (Sqe*)mapping.Sqes;
        _mapping = mapping;
        _ring = ring;
        _logger = logger;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (Cqe*)(cq + p.CqOff.Cqes);
        _sqes = sqes;
        _tail = *_sqTail;
        // Slot i of the submission array always names entry i: the entries are used in ring order.
        var array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++) array[i] = i;
    }

    /// <summary>
    /// Queues a send of <paramref name="bytes"/> on the socket of <paramref name="handle"/>, answered through
    /// <paramref name="done"/> at the next <see cref="Flush"/>; false when it cannot (the ring is full or broken, or
    /// the socket's handle is closed): then the caller sends as it would without a ring.
    /// </summary>
    public bool TryQueue(SafeSocketHandle handle, ReadOnlyMemory<byte> bytes, IRingSendDone done)
    {
        if (_broken || _count == Entries) return false;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        if (!added) return false;
        var pin = default(MemoryHandle);
        byte* at;
        if (MemoryMarshal.TryGetArray(bytes, out var array) && ReferenceEquals(array.Array, _pinnedArray))
        {
            // A fan-out sends one event's array to every watcher: pinned once per flush.
            at = _pinnedAt + array.Offset;
        }
        else if (array.Array is { } whole)
        {
            pin = whole.AsMemory().Pin();
            _pinnedArray = whole;
            _pinnedAt = (byte*)pin.Pointer;
            at = _pinnedAt + array.Offset;
        }
        else
        {
            pin = bytes.Pin();
            at = (byte*)pin.Pointer;
        }
        var sqe = _sqes + (_tail & _sqMask);
        *sqe = default;
        sqe->Opcode = OpSend;
        sqe->Fd = (int)handle.DangerousGetHandle();
        sqe->Addr = (ulong)at;
        sqe->Len = (uint)bytes.Length;
        sqe->MsgFlags = MsgDontWait | MsgNoSignal;
        sqe->UserData = (ulong)_count;
        _pending[_count++] = new Pending { Handle = handle, Pin = pin, Bytes = bytes, Done = done };
        _tail++;
        return true;
    }

    /// <summary>Hands the queued sends to the kernel, waits for their answers (a non-blocking send answers at once) and reports each.</summary>
    public void Flush()
    {
        if (_count == 0) return;
        Volatile.Write(ref *_sqTail, _tail);
        var answered = 0;
        while (answered < _count)
        {
            var toSubmit = _tail - Volatile.Read(ref *_sqHead);
            var entered = Enter(_ring, toSubmit, (uint)(_count - answered), EnterGetEvents);
            if (entered < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error is not (Eintr or Eagain or Ebusy))
                {
                    Break(error);
                    break;
                }
            }
            answered += Reap();
        }
        var count = _count;
        _count = 0;
        _pinnedArray = null;
        Interlocked.Add(ref s_sent, answered);
        // Pins go once every send is answered: sends that share an array share the first one's pin.
        for (var i = 0; i < count; i++) _pending[i].Pin.Dispose();
        for (var i = 0; i < count; i++)
        {
            ref var p = ref _pending[i];
            var (result, rest) = Outcome(p.Result, p.Bytes);
            var done = p.Done;
            p = default;
            try
            {
                done.Sent(result, rest);
            }
            catch (Exception e)
            {
                // One sender's failure must not leave the chunk's other senders unanswered.
                LogAnswerFailed(_logger, e);
            }
        }
    }

    private int Reap()
    {
        var head = *_cqHead;
        var tail = Volatile.Read(ref *_cqTail);
        var reaped = 0;
        for (; head != tail; head++, reaped++)
        {
            var cqe = _cqes + (head & _cqMask);
            Release(ref _pending[(int)cqe->UserData], cqe->Res);
        }
        Volatile.Write(ref *_cqHead, head);
        return reaped;
    }

    private static void Release(ref Pending p, int result)
    {
        p.Result = result;
        p.Handle.DangerousRelease();
        p.Handle = null!;
    }

    /// <summary>
    /// The kernel refused the ring itself (not a send): sends it never took are taken back and reported as not sent
    /// (their callers send them without the ring), and the ring is not used again.
    /// </summary>
    private void Break(int error)
    {
        _broken = true;
        LogBroken(_logger, error);
        var first = _tail - (uint)_count;
        var taken = (int)(Volatile.Read(ref *_sqHead) - first);
        Volatile.Write(ref *_sqTail, first + (uint)taken);
        _tail = first + (uint)taken;
        for (var i = 0; i < _count; i++)
            if (_pending[i].Handle is not null)
                // A taken send is answered at once (it does not block), so one taken and unanswered is not expected;
                // it counts as gone rather than be sent twice.
                Release(ref _pending[i], i < taken ? -Epipe : -Eagain);
    }

    /// <summary>A send's answer as <see cref="SocketSend"/> reports one: all sent, part left, or the peer gone.</summary>
    internal static (SocketSendResult Result, ReadOnlyMemory<byte> Left) Outcome(int result, ReadOnlyMemory<byte> bytes) => result switch
    {
        _ when result == bytes.Length => (SocketSendResult.Sent, ReadOnlyMemory<byte>.Empty),
        >= 0 => (SocketSendResult.Partial, bytes[result..]),
        -Eagain => (SocketSendResult.Partial, bytes),
        _ => (SocketSendResult.Gone, ReadOnlyMemory<byte>.Empty),
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "send ring: the kernel refused the ring (errno {Error}); this wake thread sends one socket at a time from now on")]
    private static partial void LogBroken(ILogger logger, int error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "send ring: answering a send failed")]
    private static partial void LogAnswerFailed(ILogger logger, Exception exception);
}
