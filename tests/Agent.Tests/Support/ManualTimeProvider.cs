namespace Platform.Agent.Tests.Support;

/// <summary>A clock that moves only when a test says so; due timers fire inside <see cref="Advance"/>.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

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

    /// <summary>Whether a timer is due exactly <paramref name="fromNow"/> after the current time (one just armed with that delay).</summary>
    public bool HasTimerDueIn(TimeSpan fromNow)
    {
        lock (_gate) return _timers.Any(t => t.Due == _now + fromNow);
    }

    /// <summary>
    /// A stall of the process: the clock jumps by <paramref name="by"/> first, then every timer due meanwhile fires at
    /// once, late, as they do when a paused or starved process runs again.
    /// </summary>
    public void Stall(TimeSpan by)
    {
        while (true)
        {
            ManualTimer? overdue;
            lock (_gate)
            {
                _now += by;
                by = TimeSpan.Zero;
                overdue = _timers.FirstOrDefault(t => t.Due is { } due && due <= _now);
                if (overdue is null) return;
                overdue.Due = overdue.Period > TimeSpan.Zero && overdue.Period != Timeout.InfiniteTimeSpan ? _now + overdue.Period : null;
            }
            overdue.Callback(overdue.State);
        }
    }

    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_gate) target = _now + by;
        while (true)
        {
            ManualTimer? next = null;
            lock (_gate)
            {
                foreach (var timer in _timers)
                    if (timer.Due is { } due && due <= target && (next is null || due < next.Due)) next = timer;
                if (next is null)
                {
                    _now = target;
                    return;
                }
                _now = next.Due!.Value;
                next.Due = next.Period > TimeSpan.Zero && next.Period != Timeout.InfiniteTimeSpan ? _now + next.Period : null;
            }
            next.Callback(next.State);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;
        public object? State { get; } = state;
        public DateTimeOffset? Due { get; set; }
        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                Period = period;
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
                if (!owner._timers.Contains(this)) owner._timers.Add(this);
            }
            return true;
        }

        public void Dispose()
        {
            lock (owner._gate) owner._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
