using System.Collections.Concurrent;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>
/// Consul's blocking query (<c>?index=N&amp;wait=5m</c>) over the watch hub: answers once the answer's index moves past
/// N, or when the wait ends. It only wakes for events that touch the queried key or prefix, so a change elsewhere in
/// the keyspace never ends it early.
/// </summary>
internal static class ConsulBlockingQuery
{
    /// <summary>
    /// The reads in flight after a wake, by query and event: every watcher of one key wakes for the same event, and
    /// they share one keyspace read instead of each asking the grain (Consul's fix for many watchers of one item).
    /// </summary>
    private static readonly ConcurrentDictionary<(ConsulKvQuery.Shape Query, ulong Index), Task<ConsulKvAnswer>> s_wakeReads = new();

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
            // Consul shows every key, so a listing wakes for hidden (_) keys too.
            watch = await hub.WatchAsync(query.WatchKey, query.WatchesRecursively(answer), since, query.Filter, includeHidden: true, timeout.Token);
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
            // The wait's end (or the client leaving) ends the watch itself, empty.
            watch.EndWhen(timeout.Token);
            var fired = await watch.Event;
            aborted.ThrowIfCancellationRequested();
            if (fired is null && timeout.IsCancellationRequested) return await TimedOut(hub, query, index);
            if (fired is null)
            {
                // The hub closed the watch early (it fell behind the history): a change may have been missed.
                var current = await query.ReadAsync(hub.Keyspace);
                return current with { Index = Math.Max(current.Index, current.CurrentIndex) };
            }
            var fresh = await SharedReadAsync(hub, query, fired.Event.Index);
            return fresh with { Index = Math.Max(fresh.Index, fired.Event.Index) };
        }
    }

    /// <summary>A read made after event <paramref name="eventIndex"/> woke the query, shared with every query of the same shape it woke.</summary>
    private static async Task<ConsulKvAnswer> SharedReadAsync(KeyWatchHub hub, ConsulKvQuery query, ulong eventIndex)
    {
        var key = (query.Identity, eventIndex);
        var read = s_wakeReads.GetOrAdd(key, static (_, state) => state.query.ReadAsync(state.hub.Keyspace), (hub, query));
        try
        {
            return await read;
        }
        finally
        {
            // Any read that starts from now on also sees the event; only the watchers woken together need to share.
            s_wakeReads.TryRemove(KeyValuePair.Create(key, read));
        }
    }

    private static async Task<ConsulKvAnswer> TimedOut(KeyWatchHub hub, ConsulKvQuery query, ulong index)
    {
        var current = await query.ReadAsync(hub.Keyspace);
        return current with { Index = Math.Max(current.Index, index) };
    }
}
