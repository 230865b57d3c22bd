namespace Platform.Grains.Keys;

/// <summary>The hub's watches: registering one (from the history if its event already happened), removing one, closing all.</summary>
public sealed partial class KeyWatchHub
{
    /// <summary>
    /// Registers a watch on <paramref name="key"/> (normal form): the first event at or after
    /// <paramref name="waitIndex"/> (0: after the keyspace's index when the call came, which costs one grain call shared
    /// with the watches that come meanwhile), from the history if it already happened.
    /// Throws <see cref="KeyException"/> 401 when the history no longer reaches back to <paramref name="waitIndex"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="includeHidden"/> lets a recursive watch wake for hidden keys below it; <paramref name="filter"/>
    /// is an extra test an event must pass.
    /// </remarks>
    public async ValueTask<KeyWatch> WatchAsync(string key, bool recursive, ulong waitIndex, Func<KeyEvent, bool>? filter = null, bool includeHidden = false, CancellationToken cancellationToken = default)
    {
        if (!_ready.Task.IsCompleted) await _ready.Task.WaitAsync(cancellationToken);
        // "The next change" starts after the keyspace's index when the watch arrived, not after this hub's: a write
        // answered through another silo may not have reached this hub yet (docs/keys.md, "Watch start").
        var readIndex = waitIndex == 0 ? await ReadIndexAsync(cancellationToken) : 0;
        var watch = new KeyWatch(this, key, recursive, includeHidden, filter);
        var since = waitIndex;
        while (true)
        {
            lock (_lock)
            {
                watch.StartIndex = Math.Max(_lastIndex, readIndex);
                if (since == 0) since = watch.StartIndex + 1;
                if (since > _lastIndex)
                {
                    Add(watch, since);
                    return watch;
                }
                if (_recent.Count != 0 && _recent.StartIndex <= since)
                {
                    if (ScanRecent(watch, since) is { } found) watch.Complete(new KeyWatchEvent(found));
                    else Add(watch, _lastIndex + 1);
                    return watch;
                }
            }

            // This hub's recent events do not reach back that far: the grain's history decides (event, nothing yet, or 401).
            var answer = await Keyspace.ScanHistory(key, recursive, since, includeHidden);
            if (answer.Failed) throw new KeyException(answer.ErrorCode, answer.ErrorCause ?? "", answer.ErrorIndex);
            if (answer.Event is { } e && watch.Matches(e))
            {
                lock (_lock) watch.StartIndex = _lastIndex;
                watch.Complete(new KeyWatchEvent(e));
                return watch;
            }
            // Nothing up to the grain's durable index (or what it found fails the filter): go on after it.
            since = Math.Max(since, (answer.Event?.Index ?? answer.ErrorIndex) + 1);
        }
    }

    internal void Remove(KeyWatch watch)
    {
        lock (_lock)
        {
            if (watch.List is not { Detached: false } list) return;
            list.Remove(watch);
            _watchCount--;
            if (list.Count == 0) (watch.Recursive ? _recursive : _exact).Remove(watch.Key);
        }
    }

    /// <summary>Registers a watch for events from <paramref name="minIndex"/> on; a stopping hub closes it instead. Under the lock.</summary>
    private void Add(KeyWatch watch, ulong minIndex)
    {
        watch.MinIndex = minIndex;
        if (_closing)
        {
            watch.Complete(null);
            return;
        }
        var index = watch.Recursive ? _recursive : _exact;
        if (!index.TryGetValue(watch.Key, out var list)) index.Add(watch.Key, list = new KeyWatchList());
        list.Add(watch);
        _watchCount++;
    }

    private KeyEvent? ScanRecent(KeyWatch watch, ulong since)
    {
        for (var position = (int)(since - _recent.StartIndex); position < _recent.Count; position++)
        {
            var e = _recent[position];
            // MinIndex is not set yet: every event from since on counts.
            if (watch.Matches(e)) return e;
        }
        return null;
    }

    private void CloseAll()
    {
        List<KeyWatch> closing = [];
        lock (_lock)
        {
            foreach (var index in (ReadOnlySpan<Dictionary<string, KeyWatchList>>)[_exact, _recursive])
            {
                foreach (var list in index.Values)
                {
                    list.Detached = true;
                    for (var i = 0; i < list.Count; i++) closing.Add(list[i]);
                }
                index.Clear();
            }
            _watchCount = 0;
        }
        foreach (var watch in closing) watch.Complete(null);
    }
}
