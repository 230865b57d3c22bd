using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent.Coalescing;

/// <summary>
/// Serf's member-event coalescing: keeps each member's latest event; a flush hands out one event per type with all its
/// members, skipping a member whose event repeats the last one handed out for it (except member-update). One difference
/// from Serf: a pending member-failed does not wait out the quiet period (<see cref="FlushIfFailed"/>), so a failure
/// reaches the handlers as soon as the silo reports it. And while a batch handed out is still waiting for or running its
/// handlers, nothing more is handed out (<see cref="Handled"/>): what arrives meanwhile, failures included, goes out as
/// one batch when the handlers are done. Serf's agent queues every flush behind a slow handler; here a member that
/// failed and rejoined meanwhile costs no run at all, and a fleet whose members flap runs at most one member handler at
/// a time per agent instead of one per flap (N agents × F flaps forks).
/// </summary>
public sealed class MemberEventCoalescer : IDisposable
{
    private static readonly string[] s_order = ["member-join", "member-leave", "member-failed", "member-update", "member-reap"];

    private readonly object _gate = new();
    private readonly Dictionary<string, (string Type, MemberInfo Member)> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastHandedOut = new(StringComparer.Ordinal);
    private readonly CoalesceWindow _window;
    private readonly Action<MemberHandlerEvent, Action> _emit;
    private readonly Action _handled;
    private readonly string? _self;
    private bool _failurePending;
    private int _inFlight;
    private bool _held;

    /// <summary>
    /// Flushes to <paramref name="emit"/> <paramref name="period"/> after the first event or <paramref name="quiescent"/>
    /// after the last. A failure of <paramref name="self"/> (this agent's own connection dropped, a rejoin follows) does
    /// not flush early: coalesced with the rejoin, as in Serf, it reaches no handler.
    /// </summary>
    public MemberEventCoalescer(TimeProvider time, TimeSpan period, TimeSpan quiescent, Action<MemberHandlerEvent> emit, string? self = null)
        : this(time, period, quiescent, (e, handled) =>
        {
            emit(e);
            handled();
        }, self)
    {
    }

    /// <summary>
    /// As above, but <paramref name="emit"/> gets with each event an action to call once its handlers are done (or none
    /// accepts it); until every batch handed out is done, further events are held and then handed out together.
    /// </summary>
    public MemberEventCoalescer(TimeProvider time, TimeSpan period, TimeSpan quiescent, Action<MemberHandlerEvent, Action> emit, string? self = null)
    {
        _emit = emit;
        _handled = Handled;
        _self = self;
        _window = new CoalesceWindow(time, period, quiescent, _gate, () => Flush(force: false));
    }

    /// <summary>Records <paramref name="type"/> for <paramref name="member"/>, replacing its earlier pending event.</summary>
    public void Add(string type, MemberInfo member)
    {
        lock (_gate)
        {
            _latest[member.Name] = (type, member);
            _failurePending |= type == "member-failed" && member.Name != _self;
            _window.Touch();
        }
    }

    /// <summary>Hands out what is pending now.</summary>
    public void FlushNow()
    {
        lock (_gate)
        {
            _window.Close();
            Flush(force: true);
        }
    }

    /// <summary>
    /// Hands out what is pending now if a member-failed is among it (call after each frame from the silo, so the failures
    /// of one frame, a rack going down, still go out as one event). Serf's agent holds them for its quiet period (1 s);
    /// a failure waits for nothing here, and the other events pending go out with it, in Serf's type order.
    /// </summary>
    public void FlushIfFailed()
    {
        lock (_gate)
            if (_failurePending) _window.FlushNow();
    }

    /// <summary>A batch handed out has had its handlers run: hands out what was held meanwhile once none is left.</summary>
    private void Handled()
    {
        lock (_gate)
        {
            if (--_inFlight > 0 || !_held) return;
            _window.Close();
            Flush(force: false);
        }
    }

    private void Flush(bool force)
    {
        if (_latest.Count == 0)
        {
            _failurePending = _held = false;
            return;
        }
        if (_inFlight > 0 && !force)
        {
            // Handed out once the handlers of the batch before are done (Handled); the window is closed meanwhile.
            _held = true;
            return;
        }
        _failurePending = _held = false;
        var byType = new Dictionary<string, List<MemberInfo>>(StringComparer.Ordinal);
        foreach (var (name, (type, member)) in _latest)
        {
            if (_lastHandedOut.TryGetValue(name, out var previous) && previous == type && type != "member-update") continue;
            _lastHandedOut[name] = type;
            if (!byType.TryGetValue(type, out var members)) byType[type] = members = [];
            members.Add(member);
        }
        _latest.Clear();
        foreach (var type in s_order)
            if (byType.TryGetValue(type, out var members))
            {
                _inFlight++;
                _emit(new MemberHandlerEvent(type, members), _handled);
            }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate) _window.Dispose();
    }
}
