namespace Platform.Grains.Nodes;

/// <summary>
/// The fleet's state in memory: the member summary, the user events kept, the recent published events and the
/// clocks. Applying the journal's records in order rebuilds it; it does no I/O.
/// </summary>
public sealed class FleetLog(int userEventHistory, int recentEvents)
{
    private readonly Dictionary<string, MemberEntry> _members = new(StringComparer.Ordinal);
    private readonly Queue<UserEvent> _userEvents = new();
    private readonly Queue<FleetEvent> _recent = new();

    /// <summary>The sequence number of the last published event.</summary>
    public ulong LastSeq { get; private set; }

    /// <summary>The user-event Lamport clock: the last user event's time.</summary>
    public ulong UserLTime { get; private set; }

    /// <summary>The query Lamport clock, separate from the user-event one as in Serf.</summary>
    public ulong QueryLTime { get; private set; }

    public IReadOnlyCollection<MemberEntry> Members => _members.Values;

    public int AliveCount
    {
        get
        {
            var alive = 0;
            foreach (var entry in _members.Values)
                if (entry.Member.Status == NodeStatus.Alive) alive++;
            return alive;
        }
    }

    /// <summary>A new user event at the next Lamport time (not applied yet).</summary>
    public UserEvent NewUserEvent(string name, byte[] payload, bool coalesce, DateTimeOffset at)
        => new(Guid.NewGuid().ToString("N"), name, payload, UserLTime + 1, coalesce, at);

    /// <summary>The next query Lamport time.</summary>
    public ulong NextQueryLTime() => ++QueryLTime;

    /// <summary>Applies a record; returns the event to publish, if any.</summary>
    public FleetEvent? Apply(FleetRecord record)
    {
        if (record.User is { } user)
        {
            if (user.LTime > UserLTime) UserLTime = user.LTime;
            _userEvents.Enqueue(user);
            while (_userEvents.Count > userEventHistory) _userEvents.Dequeue();
            return Publish(new FleetEvent(LastSeq + 1, null, null, user, false));
        }
        var change = record.Change!;
        if (change.Event == MemberEvents.Reap) _members.Remove(change.Member.Name);
        else _members[change.Member.Name] = new MemberEntry(change.Member, change.Hub, change.At);
        return change.Event is null ? null : Publish(new FleetEvent(LastSeq + 1, change.Event, change.Member, null, change.PushTags));
    }

    private FleetEvent Publish(FleetEvent e)
    {
        LastSeq = e.Seq;
        _recent.Enqueue(e);
        while (_recent.Count > recentEvents) _recent.Dequeue();
        return e;
    }

    /// <summary>The user events kept after <paramref name="afterLTime"/>, oldest first.</summary>
    public List<UserEvent> UserEventsAfter(ulong afterLTime)
    {
        var found = new List<UserEvent>();
        foreach (var e in _userEvents)
            if (e.LTime > afterLTime) found.Add(e);
        return found;
    }

    /// <summary>
    /// What a hub that saw up to <paramref name="afterSeq"/> missed, up to <paramref name="publishedSeq"/> (events
    /// applied but not yet durable are published later, not here); null: a new hub, which starts at
    /// <paramref name="publishedSeq"/>. Cleared when the recent events no longer reach back.
    /// </summary>
    public FleetCatchUp CatchUp(ulong? afterSeq, ulong publishedSeq)
    {
        if (afterSeq is not { } after || after >= publishedSeq) return new FleetCatchUp(publishedSeq, [], false);
        if (_recent.Count == 0 || _recent.Peek().Seq > after + 1) return new FleetCatchUp(publishedSeq, [], true);
        var missed = new List<FleetEvent>((int)(publishedSeq - after));
        foreach (var e in _recent)
            if (e.Seq > after && e.Seq <= publishedSeq) missed.Add(e);
        return new FleetCatchUp(publishedSeq, missed, false);
    }

    public FleetSnapshot Save() => new(LastSeq, UserLTime, QueryLTime, [.. _members.Values], [.. _userEvents]);

    public void Load(FleetSnapshot snapshot)
    {
        LastSeq = snapshot.LastSeq;
        UserLTime = snapshot.UserLTime;
        QueryLTime = snapshot.QueryLTime;
        _members.Clear();
        foreach (var entry in snapshot.Members) _members[entry.Member.Name] = entry;
        _userEvents.Clear();
        foreach (var e in snapshot.UserEvents) _userEvents.Enqueue(e);
        _recent.Clear();
    }
}
