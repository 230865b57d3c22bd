using System.Diagnostics;

namespace Platform.Runtime.Messaging;

/// <summary>A caller waiting for a response, with its deadline bookkeeping.</summary>
internal abstract class PendingResponse
{
    /// <summary>Stopwatch timestamp after which the caller gets a timeout.</summary>
    public long DeadlineTimestamp;

    /// <summary>Slot in the deadline wheel, or -1.</summary>
    public int DeadlineSlot = -1;

    /// <summary>Which use of a pooled object this is; a timeout collected for an earlier use is ignored.</summary>
    public int Epoch;

    /// <summary>Fails the caller with a timeout if it is still waiting in use <paramref name="epoch"/>.</summary>
    internal abstract void TimeOut(TimeSpan timeout, int epoch);
}

/// <summary>
/// Times out calls whose deadline passed. A hashed wheel of 100 ms slots: registering and
/// unregistering are O(1) under a per-slot lock, and a timer sweeps only the slots that came due.
/// </summary>
internal sealed class DeadlineWheel : IDisposable
{
    private const int SlotCount = 1024;
    private static readonly long TicksPerSlot = Stopwatch.Frequency / 10;

    private readonly HashSet<PendingResponse>[] _slots = new HashSet<PendingResponse>[SlotCount];
    private readonly TimeSpan _timeout;
    private readonly long _timeoutTicks;
    private readonly Timer _timer;
    private long _sweptThrough;
    private int _sweeping;

    public DeadlineWheel(TimeSpan timeout)
    {
        _timeout = timeout;
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < SlotCount; i++) _slots[i] = new HashSet<PendingResponse>(ReferenceEqualityComparer.Instance);
        _sweptThrough = Stopwatch.GetTimestamp() / TicksPerSlot;
        _timer = new Timer(static s => ((DeadlineWheel)s!).Sweep(), this, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));
    }

    public TimeSpan Timeout => _timeout;

    public void Register(PendingResponse message)
    {
        var deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
        message.DeadlineTimestamp = deadline;
        var slot = (int)((deadline / TicksPerSlot + 1) % SlotCount);
        var set = _slots[slot];
        lock (set)
        {
            set.Add(message);
            message.DeadlineSlot = slot;
        }
    }

    public void Unregister(PendingResponse message)
    {
        var slot = message.DeadlineSlot;
        if (slot < 0) return;
        var set = _slots[slot];
        lock (set)
        {
            set.Remove(message);
            message.DeadlineSlot = -1;
        }
    }

    private void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) != 0) return;
        try
        {
            var now = Stopwatch.GetTimestamp();
            var current = now / TicksPerSlot;
            List<(PendingResponse Message, int Epoch)>? expired = null;
            // Never sweep more than one lap: older slots were swept already.
            for (var s = Math.Max(_sweptThrough + 1, current - SlotCount + 1); s <= current; s++)
            {
                var set = _slots[(int)(s % SlotCount)];
                lock (set)
                {
                    if (set.Count == 0) continue;
                    foreach (var m in set)
                        if (m.DeadlineTimestamp <= now) (expired ??= []).Add((m, m.Epoch));
                    if (expired is null) continue;
                    foreach (var (m, _) in expired)
                        if (m.DeadlineSlot >= 0 && set.Remove(m)) m.DeadlineSlot = -1;
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

    public void Dispose() => _timer.Dispose();
}
