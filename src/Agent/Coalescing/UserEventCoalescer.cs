using Platform.Agent.Handlers;

namespace Platform.Agent.Coalescing;

/// <summary>
/// Serf's user-event coalescing for events fired with coalesce: per name only the latest Lamport time survives (events of
/// that same ltime all do); a flush hands them out. Events dropped this way are reported, so they count as handled.
/// </summary>
public sealed class UserEventCoalescer : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, List<UserHandlerEvent>> _latest = new(StringComparer.Ordinal);
    private readonly CoalesceWindow _window;
    private readonly Action<UserHandlerEvent> _emit;
    private readonly Action<UserHandlerEvent> _superseded;

    /// <summary>Flushes to <paramref name="emit"/>; events replaced by a later one of the same name go to <paramref name="superseded"/>.</summary>
    public UserEventCoalescer(TimeProvider time, TimeSpan period, TimeSpan quiescent, Action<UserHandlerEvent> emit, Action<UserHandlerEvent> superseded)
    {
        _emit = emit;
        _superseded = superseded;
        _window = new CoalesceWindow(time, period, quiescent, _gate, Flush);
    }

    /// <summary>Takes <paramref name="e"/> into the window.</summary>
    public void Add(UserHandlerEvent e)
    {
        lock (_gate)
        {
            if (!_latest.TryGetValue(e.Name, out var pending))
            {
                _latest[e.Name] = [e];
            }
            else if (e.LTime < pending[0].LTime)
            {
                _superseded(e);
                return;
            }
            else if (e.LTime == pending[0].LTime)
            {
                pending.Add(e);
            }
            else
            {
                foreach (var old in pending) _superseded(old);
                _latest[e.Name] = [e];
            }
            _window.Touch();
        }
    }

    /// <summary>Hands out what is pending now.</summary>
    public void FlushNow()
    {
        lock (_gate) _window.FlushNow();
    }

    private void Flush()
    {
        foreach (var events in _latest.Values)
            foreach (var e in events) _emit(e);
        _latest.Clear();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate) _window.Dispose();
    }
}
