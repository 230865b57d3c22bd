namespace Platform.Agent.Coalescing;

/// <summary>
/// Serf's coalescing clock: the first event opens a window of <c>period</c>; every event restarts a <c>quiescent</c>
/// timer; whichever fires first flushes. Timers come from a <see cref="TimeProvider"/>, so tests drive time.
/// </summary>
internal sealed class CoalesceWindow : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly TimeSpan _quiescent;
    private readonly object _gate;
    private readonly Action _flush;
    private ITimer? _quantum;
    private ITimer? _quiet;
    private long _generation;

    /// <summary><paramref name="flush"/> runs under <paramref name="gate"/>, the lock the owner holds when it calls <see cref="Touch"/>.</summary>
    public CoalesceWindow(TimeProvider time, TimeSpan period, TimeSpan quiescent, object gate, Action flush)
    {
        _time = time;
        _period = period;
        _quiescent = quiescent;
        _gate = gate;
        _flush = flush;
    }

    /// <summary>An event arrived (call under the gate): open the window if none is open and restart the quiet timer.</summary>
    public void Touch()
    {
        var generation = _generation;
        _quantum ??= _time.CreateTimer(Fire, generation, _period, Timeout.InfiniteTimeSpan);
        if (_quiet is null) _quiet = _time.CreateTimer(Fire, generation, _quiescent, Timeout.InfiniteTimeSpan);
        else _quiet.Change(_quiescent, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Flushes now (call under the gate), as when the agent stops.</summary>
    public void FlushNow()
    {
        Close();
        _flush();
    }

    private void Fire(object? state)
    {
        lock (_gate)
        {
            // A timer of a window already flushed fires late: ignore it.
            if ((long)state! != _generation || _quantum is null) return;
            FlushNow();
        }
    }

    /// <summary>Closes the window without flushing (call under the gate): the next event opens a new one.</summary>
    public void Close()
    {
        _generation++;
        _quantum?.Dispose();
        _quiet?.Dispose();
        _quantum = null;
        _quiet = null;
    }

    public void Dispose() => Close();
}
