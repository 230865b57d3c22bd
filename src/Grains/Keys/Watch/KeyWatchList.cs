namespace Platform.Grains.Keys;

/// <summary>
/// The watches waiting on one key (or, recursive, one directory) in a hub: an array with swap-remove, so a watch
/// leaves in O(1) and a fan-out can take the whole list at once (<see cref="Detached"/>) and split it by position.
/// Used under the hub's lock, except that a detached list is only read.
/// </summary>
internal sealed class KeyWatchList
{
    private readonly List<KeyWatch> _watches = [];
    private ulong _maxMinIndex;
    private int _filtered, _hidden;

    /// <summary>Taken out of the hub whole: every watch in it is woken, and none leaves it any more.</summary>
    public volatile bool Detached;

    public int Count => _watches.Count;

    public KeyWatch this[int i] => _watches[i];

    public void Add(KeyWatch watch)
    {
        watch.List = this;
        watch.Slot = _watches.Count;
        _watches.Add(watch);
        _maxMinIndex = Math.Max(_maxMinIndex, watch.MinIndex);
        if (watch.Filter is not null) _filtered++;
        if (watch.IncludeHidden) _hidden++;
    }

    public void Remove(KeyWatch watch)
    {
        var last = _watches[^1];
        _watches[watch.Slot] = last;
        last.Slot = watch.Slot;
        _watches.RemoveAt(_watches.Count - 1);
        watch.List = null;
        if (watch.Filter is not null) _filtered--;
        if (watch.IncludeHidden) _hidden--;
        if (_watches.Count == 0) _maxMinIndex = 0;
    }

    /// <summary>
    /// Whether <paramref name="e"/> matches every watch here or none (no filters, one hidden-key setting, and every
    /// watch waits for an index at or before it); the largest wait index is kept high after removals, so this may
    /// say no when it could say yes, never the reverse.
    /// </summary>
    public bool AllAlike(KeyEvent e) => _filtered == 0 && (_hidden == 0 || _hidden == _watches.Count) && _maxMinIndex <= e.Index;
}
