using Platform.Runtime;

namespace Platform.Grains.Keys;

/// <summary>
/// One keyspace (etcd v2 store): the unit of ordering. Every write takes the next global index, is journaled
/// durably before it is answered, and is then published, in index order, to every silo's watch hub.
/// </summary>
public interface IKeyspaceGrain : IGrainWithStringKey
{
    /// <summary>Runs a read or a write; a write returns once it is durable. etcd errors come back in the result, not thrown.</summary>
    Task<KeyResult> Execute(KeyRequest request);

    /// <summary>
    /// The first durable event at or after <paramref name="sinceIndex"/> that a watch on <paramref name="key"/> sees;
    /// an event-less result (with <see cref="KeyResult.ErrorIndex"/> = the durable index scanned up to) when none has
    /// happened yet, or error 401 when the history no longer reaches back that far. <paramref name="includeHidden"/>:
    /// a recursive watch sees hidden keys too (see <see cref="KeyEvent.IsVisibleTo"/>).
    /// </summary>
    Task<KeyResult> ScanHistory(string key, bool recursive, ulong sinceIndex, bool includeHidden);

    /// <summary>
    /// Subscribes (or renews) a watch hub and returns what it missed after <paramref name="afterIndex"/>: the durable
    /// events from the history, or <see cref="KeyspaceCatchUp.Cleared"/> when the history no longer reaches back.
    /// </summary>
    Task<KeyspaceCatchUp> Subscribe(IKeyspaceObserver observer, ulong afterIndex);
}

/// <summary>A silo's watch hub, told about every durable change in index order.</summary>
public interface IKeyspaceObserver : IGrainObserver
{
    [OneWay]
    Task OnEvents(KeyEventBatch batch);
}

/// <summary>Consecutive durable events of a keyspace, oldest first.</summary>
public sealed class KeyEventBatch
{
    public KeyEventBatch(IReadOnlyList<KeyEvent> events) => Events = events;

    public IReadOnlyList<KeyEvent> Events { get; }
}

/// <summary>What <see cref="IKeyspaceGrain.Subscribe"/> answers: the durable index and the events a hub missed.</summary>
public sealed class KeyspaceCatchUp
{
    public KeyspaceCatchUp(ulong durableIndex, IReadOnlyList<KeyEvent> events, bool cleared, long term)
    {
        Term = term;
        DurableIndex = durableIndex;
        Events = events;
        Cleared = cleared;
    }

    public ulong DurableIndex { get; }

    /// <summary>The keyspace journal's epoch: etcd's <c>X-Raft-Term</c>.</summary>
    public long Term { get; }

    /// <summary>The durable events after the hub's index, oldest first (empty when <see cref="Cleared"/>).</summary>
    public IReadOnlyList<KeyEvent> Events { get; }

    /// <summary>The history no longer holds every event after the hub's index: the hub must start over at <see cref="DurableIndex"/>.</summary>
    public bool Cleared { get; }
}
