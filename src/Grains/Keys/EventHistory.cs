namespace Platform.Grains.Keys;

/// <summary>
/// The last <see cref="Capacity"/> events of the keyspace, oldest first: what lets a watcher that was away
/// (<c>waitIndex</c>) catch up without missing a change (etcd's <c>event_history.go</c>). The ring holds one event
/// per index with no gaps, so finding the event for an index is arithmetic, not a search.
/// </summary>
public sealed class EventHistory
{
    private readonly KeyEvent[] _ring;
    private int _front;

    /// <summary>Creates an empty history that remembers the last <paramref name="capacity"/> events.</summary>
    internal EventHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new KeyEvent[capacity];
    }

    /// <summary>How many events the history remembers before it forgets the oldest.</summary>
    public int Capacity => _ring.Length;

    /// <summary>How many events it holds now.</summary>
    public int Count { get; private set; }

    /// <summary>The index of the oldest event remembered (0 while empty, as in etcd).</summary>
    public ulong StartIndex => Count == 0 ? 0 : _ring[_front].Index;

    /// <summary>The index of the newest event (0 while empty).</summary>
    public ulong LastIndex { get; private set; }

    /// <summary>The <paramref name="position"/>-th event remembered, oldest first.</summary>
    public KeyEvent this[int position]
    {
        get
        {
            if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position), position, $"the history holds {Count} events");
            return _ring[(_front + position) % _ring.Length];
        }
    }

    /// <summary>
    /// Remembers <paramref name="e"/>, forgetting the oldest event when full. Only the store adds, one event per
    /// index it hands out, which keeps <see cref="LastIndex"/> equal to the store's current index.
    /// </summary>
    internal void Add(KeyEvent e)
    {
        if (Count > 0 && e.Index != LastIndex + 1)
        {
            throw new InvalidOperationException($"event {e} does not follow index {LastIndex}: the history holds one event per index");
        }
        if (Count == _ring.Length)
        {
            _ring[_front] = e;
            _front = (_front + 1) % _ring.Length;
        }
        else
        {
            _ring[(_front + Count) % _ring.Length] = e;
            Count++;
        }
        LastIndex = e.Index;
    }

    /// <summary>
    /// The first remembered event at or after <paramref name="sinceIndex"/> that a watch on <paramref name="key"/>
    /// sees (see <see cref="KeyEvent.IsVisibleTo"/>), or null when none has happened yet. Throws error 401 when the
    /// history no longer reaches back to <paramref name="sinceIndex"/>, with etcd's cause
    /// <c>the requested history has been cleared [start/since]</c>.
    /// </summary>
    public KeyEvent? Scan(string key, bool recursive, ulong sinceIndex, bool includeHidden = false)
    {
        var start = StartIndex;
        if (sinceIndex < start)
        {
            // The history's newest index is the store's current index: every index the store hands out is an event here.
            throw new KeyException(KeyErrorCode.EventIndexCleared, $"the requested history has been cleared [{start}/{sinceIndex}]", LastIndex);
        }
        if (sinceIndex > LastIndex || Count == 0) return null;

        for (var position = (int)(sinceIndex - start); position < Count; position++)
        {
            var e = _ring[(_front + position) % _ring.Length];
            if (e.IsVisibleTo(key, recursive, includeHidden)) return e;
        }
        return null;
    }
}
