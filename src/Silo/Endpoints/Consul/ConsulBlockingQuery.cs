using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>
/// Consul's blocking query (<c>?index=N&amp;wait=5m</c>) over the watch hub: answers once the answer's index moves past
/// N, or when the wait ends. It only wakes for events that touch the queried key or prefix, so a change elsewhere in
/// the keyspace never ends it early.
/// </summary>
internal static class ConsulBlockingQuery
{
    /// <summary>Answers <paramref name="query"/> after index <paramref name="index"/>; throws <see cref="OperationCanceledException"/> when the client goes away.</summary>
    public static async Task<ConsulKvAnswer> RunAsync(KeyWatchHub hub, ConsulKvQuery query, ulong index, TimeSpan wait, CancellationToken aborted)
    {
        var answer = await query.ReadAsync(hub.Keyspace);
        // Entries modified after the index are a change. Without entries the index is only the keyspace's, which any
        // unrelated write moves: the history since the index decides instead.
        if (answer.HasEntries && answer.Index > index) return answer;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(wait);
        // An index from the future (the keyspace started over) waits for the next change, not for the index to come back.
        var since = Math.Min(index, answer.CurrentIndex) + 1;
        KeyWatch watch;
        try
        {
            watch = await hub.WatchAsync(query.WatchKey, query.WatchesRecursively(answer), since, query.Filter, timeout.Token);
        }
        catch (KeyException e) when (e.Code == KeyErrorCode.EventIndexCleared)
        {
            // The history no longer reaches back to the index: whether anything changed is unknown, so say it may have.
            return answer with { Index = Math.Max(answer.CurrentIndex, e.Index) };
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return await TimedOut(hub, query, index);
        }

        using (watch)
        {
            KeyWatchEvent? fired;
            try
            {
                fired = await watch.Event.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                return await TimedOut(hub, query, index);
            }
            var fresh = await query.ReadAsync(hub.Keyspace);
            // No event: the hub closed the watch early (it fell behind the history), so a change may have been missed.
            return fresh with { Index = Math.Max(fresh.Index, fired?.Event.Index ?? fresh.CurrentIndex) };
        }
    }

    private static async Task<ConsulKvAnswer> TimedOut(KeyWatchHub hub, ConsulKvQuery query, ulong index)
    {
        var current = await query.ReadAsync(hub.Keyspace);
        return current with { Index = Math.Max(current.Index, index) };
    }
}
