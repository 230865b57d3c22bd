namespace Platform.Agent.State;

/// <summary>
/// Exactly-once for user events: an event runs only if its ltime is above the applied mark and it is not already
/// under way. The mark moves to the highest ltime below which every received event is done (handled, filtered out or
/// coalesced away), so a handler still running, or an event held for coalescing, is never skipped after a restart.
/// The mark is written to disk before it is reported.
/// </summary>
public sealed class AppliedTracker
{
    private readonly LastAppliedStore _store;
    private readonly object _gate = new();
    private readonly Dictionary<string, ulong> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _done = new(StringComparer.Ordinal);
    private ulong _applied;
    private ulong _highestReceived;

    /// <summary>Loads the mark from <paramref name="store"/>; <see cref="IsNew"/> says whether there was one.</summary>
    public AppliedTracker(LastAppliedStore store)
    {
        _store = store;
        var stored = store.Load();
        IsNew = stored is null;
        _applied = stored ?? 0;
        _highestReceived = _applied;
    }

    /// <summary>True when this data directory had no mark: the agent has never handled an event here.</summary>
    public bool IsNew { get; }

    /// <summary>Every user event up to this ltime is handled.</summary>
    public ulong Applied
    {
        get { lock (_gate) return _applied; }
    }

    /// <summary>Takes event <paramref name="id"/> at <paramref name="ltime"/>; false when it was handled (or is under way) already.</summary>
    public bool TryBegin(string id, ulong ltime)
    {
        lock (_gate)
        {
            if (ltime <= _applied || _inFlight.ContainsKey(id) || _done.ContainsKey(id)) return false;
            _inFlight[id] = ltime;
            if (ltime > _highestReceived) _highestReceived = ltime;
            return true;
        }
    }

    /// <summary>Event <paramref name="id"/> is done; returns the new mark when it moved (already on disk), else null.</summary>
    public ulong? Complete(string id)
    {
        lock (_gate)
        {
            if (!_inFlight.Remove(id, out var ltime)) return null;
            _done[id] = ltime;
            var mark = _highestReceived;
            foreach (var pending in _inFlight.Values)
                if (pending <= mark) mark = pending - 1;
            if (mark <= _applied) return null;
            _store.Save(mark);
            _applied = mark;
            // What is at or below the mark is now refused by ltime alone.
            List<string>? forget = null;
            foreach (var (doneId, doneLTime) in _done)
                if (doneLTime <= mark) (forget ??= []).Add(doneId);
            if (forget is not null)
                foreach (var doneId in forget) _done.Remove(doneId);
            return mark;
        }
    }

    /// <summary>Writes the mark as it is (a new agent's first welcome), so a restart knows this data directory has run.</summary>
    public void Persist()
    {
        lock (_gate) _store.Save(_applied);
    }
}
