using System.Diagnostics;
using System.Numerics;

namespace Platform.Runtime.Messaging;

/// <summary>A caller waiting for a response, with its deadline bookkeeping.</summary>
internal abstract class PendingResponse
{
    /// <summary>Stopwatch timestamp after which the caller gets a timeout.</summary>
    public long DeadlineTimestamp;

    /// <summary>The wheel's list holding this caller while it waits, or null; with its neighbours there.</summary>
    internal DeadlineList? DeadlineList;
    internal PendingResponse? DeadlinePrevious;
    internal PendingResponse? DeadlineNext;

    /// <summary>Which use of a pooled object this is; a timeout collected for an earlier use is ignored.</summary>
    public int Epoch;

    /// <summary>Fails the caller with a timeout if it is still waiting in use <paramref name="epoch"/>.</summary>
    internal abstract void TimeOut(TimeSpan timeout, int epoch);
}

/// <summary>The callers of one wheel slot registered from one core: an intrusive doubly linked list, locked on itself.</summary>
internal sealed class DeadlineList
{
    private PendingResponse? _head;

    public PendingResponse? Head => _head;

    public void Add(PendingResponse message)
    {
        message.DeadlinePrevious = null;
        message.DeadlineNext = _head;
        if (_head is not null) _head.DeadlinePrevious = message;
        _head = message;
        message.DeadlineList = this;
    }

    public void Remove(PendingResponse message)
    {
        if (message.DeadlinePrevious is { } previous) previous.DeadlineNext = message.DeadlineNext;
        else _head = message.DeadlineNext;
        if (message.DeadlineNext is { } next) next.DeadlinePrevious = message.DeadlinePrevious;
        message.DeadlinePrevious = null;
        message.DeadlineNext = null;
        Volatile.Write(ref message.DeadlineList, null);
    }
}

/// <summary>
/// Times out calls whose deadline passed. A hashed wheel of 100 ms slots, each split into one list per core (up to
/// 16): registering and unregistering are a few pointer writes under a lock that, as a rule, only the registering
/// core takes, and a timer sweeps only the slots that came due.
/// </summary>
internal sealed class DeadlineWheel : IDisposable
{
    private const int SlotCount = 1024;
    private static readonly long TicksPerSlot = Stopwatch.Frequency / 10;

    private readonly int _stripes = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount), 16);
    private readonly DeadlineList[] _lists;
    private readonly TimeSpan _timeout;
    private readonly long _timeoutTicks;
    private readonly Timer? _timer;
    private long _sweptThrough;
    private int _sweeping;

    /// <param name="timeout">How long a caller waits.</param>
    /// <param name="sweep">False: nothing sweeps on a timer (tests call <see cref="Sweep(long)"/>).</param>
    public DeadlineWheel(TimeSpan timeout, bool sweep = true)
    {
        _timeout = timeout;
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _lists = new DeadlineList[SlotCount * _stripes];
        // One core's lists allocated together, so that two cores' lists of one slot share no cache line.
        for (var stripe = 0; stripe < _stripes; stripe++)
            for (var slot = 0; slot < SlotCount; slot++) _lists[slot * _stripes + stripe] = new DeadlineList();
        _sweptThrough = Stopwatch.GetTimestamp() / TicksPerSlot;
        if (sweep) _timer = new Timer(static s => ((DeadlineWheel)s!).Sweep(Stopwatch.GetTimestamp()), this, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
    }

    public TimeSpan Timeout => _timeout;

    public void Register(PendingResponse message)
    {
        var deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
        message.DeadlineTimestamp = deadline;
        var slot = (int)((deadline / TicksPerSlot + 1) % SlotCount);
        var list = _lists[slot * _stripes + (Thread.GetCurrentProcessorId() & (_stripes - 1))];
        lock (list) list.Add(message);
    }

    public void Unregister(PendingResponse message)
    {
        if (Volatile.Read(ref message.DeadlineList) is not { } list) return;
        lock (list)
        {
            // The sweep may have taken it out meanwhile.
            if (ReferenceEquals(message.DeadlineList, list)) list.Remove(message);
        }
    }

    /// <summary>Times out every caller whose deadline is at or before <paramref name="now"/> (a Stopwatch timestamp) in the slots come due.</summary>
    internal void Sweep(long now)
    {
        if (Interlocked.Exchange(ref _sweeping, 1) != 0) return;
        try
        {
            var current = now / TicksPerSlot;
            List<(PendingResponse Message, int Epoch)>? expired = null;
            // Never sweep more than one lap: older slots were swept already.
            for (var s = Math.Max(_sweptThrough + 1, current - SlotCount + 1); s <= current; s++)
            {
                var first = (int)(s % SlotCount) * _stripes;
                for (var stripe = 0; stripe < _stripes; stripe++)
                {
                    var list = _lists[first + stripe];
                    lock (list)
                    {
                        for (var m = list.Head; m is not null;)
                        {
                            var next = m.DeadlineNext;
                            // A deadline more than a lap away shares the slot and stays.
                            if (m.DeadlineTimestamp <= now)
                            {
                                (expired ??= []).Add((m, m.Epoch));
                                list.Remove(m);
                            }
                            m = next;
                        }
                    }
                }
            }
            _sweptThrough = current;
            if (expired is null) return;
            foreach (var (m, epoch) in expired) m.TimeOut(_timeout, epoch);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    public void Dispose() => _timer?.Dispose();
}
