namespace Platform.Silo.Agents;

/// <summary>
/// How late this silo runs work it queues: one probe at a time on the thread pool's global queue, where socket reads
/// wait too. While the pool is behind, pings that arrived are still unread and their agents only look silent, so the
/// hub fails nobody (as Lifeguard's local health in Serf's memberlist: a member that is itself slow does not judge others).
/// </summary>
internal sealed class SchedulingLagProbe
{
    private readonly Action<SchedulingLagProbe> _queue;
    private long _queuedAt;
    private long _lastLag;

    /// <summary>Probes on the thread pool; <paramref name="queue"/> replaces it in unit tests.</summary>
    public SchedulingLagProbe(Action<SchedulingLagProbe>? queue = null)
        => _queue = queue ?? (static p => ThreadPool.UnsafeQueueUserWorkItem(static s => s.Ran(Environment.TickCount64), p, preferLocal: false));

    /// <summary>
    /// The lag at <paramref name="now"/> (ms): the last probe's, or how long the probe in flight has waited if that is
    /// longer. Queues the next probe when none is in flight.
    /// </summary>
    public long Check(long now)
    {
        var queued = Volatile.Read(ref _queuedAt);
        var last = Volatile.Read(ref _lastLag);
        if (queued != 0) return Math.Max(last, now - queued);
        Volatile.Write(ref _queuedAt, now);
        _queue(this);
        return last;
    }

    /// <summary>The probe ran at <paramref name="at"/>.</summary>
    public void Ran(long at)
    {
        var queued = Interlocked.Exchange(ref _queuedAt, 0);
        if (queued != 0) Volatile.Write(ref _lastLag, Math.Max(0, at - queued));
    }
}
