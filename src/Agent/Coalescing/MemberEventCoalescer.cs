using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent.Coalescing;

/// <summary>
/// Serf's member-event coalescing: keeps each member's latest event; a flush hands out one event per type with all its
/// members, skipping a member whose event repeats the last one handed out for it (except member-update).
/// </summary>
public sealed class MemberEventCoalescer : IDisposable
{
    private static readonly string[] s_order = ["member-join", "member-leave", "member-failed", "member-update", "member-reap"];

    private readonly object _gate = new();
    private readonly Dictionary<string, (string Type, MemberInfo Member)> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastHandedOut = new(StringComparer.Ordinal);
    private readonly CoalesceWindow _window;
    private readonly Action<MemberHandlerEvent> _emit;

    /// <summary>Flushes to <paramref name="emit"/> <paramref name="period"/> after the first event or <paramref name="quiescent"/> after the last.</summary>
    public MemberEventCoalescer(TimeProvider time, TimeSpan period, TimeSpan quiescent, Action<MemberHandlerEvent> emit)
    {
        _emit = emit;
        _window = new CoalesceWindow(time, period, quiescent, _gate, Flush);
    }

    /// <summary>Records <paramref name="type"/> for <paramref name="member"/>, replacing its earlier pending event.</summary>
    public void Add(string type, MemberInfo member)
    {
        lock (_gate)
        {
            _latest[member.Name] = (type, member);
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
        if (_latest.Count == 0) return;
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
            if (byType.TryGetValue(type, out var members)) _emit(new MemberHandlerEvent(type, members));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate) _window.Dispose();
    }
}
