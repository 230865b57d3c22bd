namespace Platform.Runtime.Tests.Support;

/// <summary>
/// A clock whose time moves only when the test says so, with timers (so PeriodicTimer, Task.Delay, WaitAsync and
/// CancellationTokenSource timeouts given this provider follow it). <see cref="Advance"/> is time passing while the
/// process runs: each timer fires at its due time, in order. <see cref="Stall"/> is the process frozen (CPU starvation,
/// a GC pause): time jumps first, then everything that came due fires, late, and sees the late time.
/// Timer callbacks run on the caller's thread.
/// </summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = start;

    public ManualClock() : this(Epoch)
    {
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time forward by <paramref name="delta"/>, firing each timer at its due time.</summary>
    public void Advance(TimeSpan delta)
    {
        DateTimeOffset end;
        lock (_gate) end = _now + delta;
        while (true)
        {
            ManualTimer? next;
            lock (_gate)
            {
                next = Earliest(end);
                if (next is null)
                {
                    _now = end;
                    return;
                }
                if (next.Due > _now) _now = next.Due;
                next.Rearm(next.Due);
            }
            next.Fire();
        }
    }

    /// <summary>Timers armed to fire within <paramref name="within"/> from now: lets a test wait until a loop is waiting on the clock before moving it.</summary>
    public int TimersDueWithin(TimeSpan within)
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var timer in _timers)
                if (timer.Armed && timer.Due <= _now + within) count++;
            return count;
        }
    }

    /// <summary>Jumps time forward by <paramref name="delta"/>, then fires every timer that came due, once, late.</summary>
    public void Stall(TimeSpan delta)
    {
        List<ManualTimer> due = [];
        lock (_gate)
        {
            _now += delta;
            while (Earliest(_now) is { } timer)
            {
                timer.Rearm(_now);
                due.Add(timer);
            }
        }
        foreach (var timer in due) timer.Fire();
    }

    private ManualTimer? Earliest(DateTimeOffset until)
    {
        ManualTimer? earliest = null;
        foreach (var timer in _timers)
            if (timer.Armed && timer.Due <= until && (earliest is null || timer.Due < earliest.Due)) earliest = timer;
        return earliest;
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;

        public bool Armed { get; private set; }
        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                _period = period;
                Armed = dueTime != Timeout.InfiniteTimeSpan;
                if (!Armed) return true;
                Due = clock._now + dueTime;
                clock._timers.Add(this);
            }
            return true;
        }

        /// <summary>After firing at <paramref name="firedAt"/>: the next period, or disarmed. Called under the clock's lock.</summary>
        public void Rearm(DateTimeOffset firedAt)
        {
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
            {
                Due = firedAt + _period;
                return;
            }
            Armed = false;
            clock._timers.Remove(this);
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                Armed = false;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
