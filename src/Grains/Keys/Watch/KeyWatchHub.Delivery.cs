using Microsoft.Extensions.Logging;

namespace Platform.Grains.Keys;

/// <summary>Delivery: events from the grain, in order, to the watches they wake.</summary>
public sealed partial class KeyWatchHub
{
    /// <summary>Events from the keyspace grain, in index order.</summary>
    public Task OnEvents(KeyEventBatch batch)
    {
        Deliver(batch.Events);
        return Task.CompletedTask;
    }

    /// <summary>Takes events in order, wakes the watches they match, and asks the grain for what is missing on a gap.</summary>
    private void Deliver(IReadOnlyList<KeyEvent> events)
    {
        Woken? woken = null;
        List<TaskCompletionSource>? seen = null;
        var gap = false;
        lock (_lock)
        {
            foreach (var e in events)
            {
                if (e.Index <= _lastIndex) continue;
                if (e.Index != _lastIndex + 1)
                {
                    gap = true;
                    break;
                }
                _recent.Add(e);
                _lastIndex = e.Index;
                if (_watchCount != 0) Match(e, ref woken);
            }
            TakeSeen(ref seen);
        }
        // Writers first: their replies would otherwise queue behind every woken watcher's.
        if (seen is not null)
            foreach (var s in seen) s.TrySetResult();
        woken?.Wake(this);
        if (gap) RequestCatchUp();
    }

    /// <summary>Moves every watch <paramref name="e"/> wakes into <paramref name="woken"/>.</summary>
    private void Match(KeyEvent e, ref Woken? woken)
    {
        if (e.Refresh) return;
        KeyWatchEvent? shared = null;
        var key = e.Node.Key;
        Take(_exact, key, e, ref shared, ref woken);
        for (var ancestor = key; ; ancestor = KeyPath.Parent(ancestor))
        {
            Take(_recursive, ancestor, e, ref shared, ref woken);
            if (ancestor.Length == 1) break;
        }
        if (e.Node.Dir && e.Action is KeyAction.Delete or KeyAction.Expire)
        {
            // Watches on keys inside a removed directory hear of it too.
            foreach (var index in (ReadOnlySpan<Dictionary<string, KeyWatchList>>)[_exact, _recursive])
            {
                List<string>? inside = null;
                foreach (var watched in index.Keys)
                    if (KeyPath.IsBelow(watched, key)) (inside ??= []).Add(watched);
                if (inside is not null)
                    foreach (var watched in inside) Take(index, watched, e, ref shared, ref woken);
            }
        }
    }

    private void Take(Dictionary<string, KeyWatchList> index, string watched, KeyEvent e, ref KeyWatchEvent? shared, ref Woken? woken)
    {
        if (!index.TryGetValue(watched, out var list)) return;
        if (list.AllAlike(e))
        {
            // One watch decides for all (the common case: a thousand long polls on one key): the whole list leaves
            // the index at once, and its watches are woken off the lock, split over the cores.
            if (!list[0].Matches(e)) return;
            index.Remove(watched);
            list.Detached = true;
            _watchCount -= list.Count;
            (woken ??= new Woken()).Add(list, shared ??= new KeyWatchEvent(e));
            return;
        }
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var watch = list[i];
            if (!watch.Matches(e)) continue;
            list.Remove(watch);
            _watchCount--;
            (woken ??= new Woken()).Add(watch, shared ??= new KeyWatchEvent(e));
        }
        if (list.Count == 0) index.Remove(watched);
    }
}
