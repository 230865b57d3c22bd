using Platform.Protocol;

namespace Platform.Agent;

/// <summary>
/// The members this agent knows, as the silo told it. A welcome is compared with what was known: the first one yields
/// member-join for every alive member (Serf fires it for itself and each member it learns); a later one (a reconnect)
/// only the differences.
/// </summary>
public sealed class MemberView
{
    private readonly Dictionary<string, MemberInfo> _members = new(StringComparer.Ordinal);
    private bool _welcomed;

    /// <summary>A copy of the members known now, by name.</summary>
    public IReadOnlyDictionary<string, MemberInfo> Snapshot()
    {
        lock (_members) return new Dictionary<string, MemberInfo>(_members, StringComparer.Ordinal);
    }

    /// <summary>Replaces the view with a welcome's members and returns the member events that make up the difference.</summary>
    public IReadOnlyList<(string Type, MemberInfo Member)> Welcome(IReadOnlyList<MemberInfo> members)
    {
        var events = new List<(string, MemberInfo)>();
        lock (_members)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in members)
            {
                seen.Add(member.Name);
                _members.TryGetValue(member.Name, out var known);
                var type = _welcomed ? Difference(known, member) : member.Status == "alive" ? "member-join" : null;
                if (type is not null) events.Add((type, member));
                _members[member.Name] = member;
            }
            if (_welcomed)
            {
                foreach (var (name, known) in _members)
                    if (!seen.Contains(name)) events.Add(("member-reap", known));
                foreach (var (type, member) in events)
                    if (type == "member-reap") _members.Remove(member.Name);
            }
            _welcomed = true;
        }
        return events;
    }

    /// <summary>Applies one member event from the silo (a reap forgets the member).</summary>
    public void Apply(MemberEventFrame frame)
    {
        lock (_members)
        {
            if (frame.Event == "member-reap") _members.Remove(frame.Member.Name);
            else _members[frame.Member.Name] = frame.Member;
        }
    }

    /// <summary>The member event that turns <paramref name="known"/> into <paramref name="now"/>, or null when nothing a handler sees changed.</summary>
    private static string? Difference(MemberInfo? known, MemberInfo now)
    {
        if (known is null) return now.Status == "alive" ? "member-join" : null;
        if (known.Status != now.Status)
        {
            return now.Status switch
            {
                "alive" => "member-join",
                "failed" => "member-failed",
                "left" or "leaving" => known.Status is "left" or "leaving" ? null : "member-leave",
                _ => null,
            };
        }
        return known.Addr != now.Addr || known.Port != now.Port || !SameTags(known.Tags, now.Tags) ? "member-update" : null;
    }

    private static bool SameTags(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }
}
