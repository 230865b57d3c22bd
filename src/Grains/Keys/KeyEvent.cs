namespace Platform.Grains.Keys;

/// <summary>What happened to a key: the <c>action</c> of an etcd v2 reply or watch event.</summary>
public enum KeyAction : byte
{
    Get,
    Set,
    Create,
    Update,
    Delete,
    CompareAndSwap,
    CompareAndDelete,
    Expire,
}

/// <summary>
/// One change of the keyspace (or the answer to a get): the action, the node after it, the node before it and
/// the indexes. This is what a reply or a watch notification serializes; it is immutable, so one event can be
/// encoded once and sent to every watcher.
/// </summary>
public sealed class KeyEvent
{
    public KeyEvent(KeyAction action, KeyNodeSnapshot node, KeyNodeSnapshot? prevNode, ulong etcdIndex, bool refresh = false)
    {
        Action = action;
        Node = node;
        PrevNode = prevNode;
        EtcdIndex = etcdIndex;
        Refresh = refresh;
    }

    public KeyAction Action { get; }

    /// <summary>etcd's wire name of <see cref="Action"/>: <c>get</c>, <c>set</c>, <c>compareAndSwap</c>, ...</summary>
    public string ActionName => Name(Action);

    /// <summary>The node after the change (for delete and expire: its key, indexes and dir flag only).</summary>
    public KeyNodeSnapshot Node { get; }

    /// <summary>The node before the change; null when there was none.</summary>
    public KeyNodeSnapshot? PrevNode { get; }

    /// <summary>The index of the change: the global index it was given (for a get, the node's modified index).</summary>
    public ulong Index => Node.ModifiedIndex;

    /// <summary>The store's index when the event was produced (the <c>X-Etcd-Index</c> of a direct reply).</summary>
    public ulong EtcdIndex { get; }

    /// <summary>
    /// A TTL refresh: it takes an index and sits in the history, but wakes no watcher and is never found by a
    /// history scan (etcd's <c>Event.Refresh</c>).
    /// </summary>
    public bool Refresh { get; }

    /// <summary>True when the change created the key: etcd answers such a change with HTTP 201.</summary>
    public bool IsCreated => Action == KeyAction.Create || (Action == KeyAction.Set && PrevNode is null);

    /// <summary>
    /// True when a watch on <paramref name="watchKey"/> (a normal key) wakes for this event. One rule serves the
    /// history scan and live watches alike: the key itself; with <paramref name="recursive"/>, any key below it
    /// unless a segment below the watched key is hidden (etcd's live-watch rule; <paramref name="includeHidden"/>
    /// lifts it, as Consul shows every key); and the delete or expiry of a directory holding the watched key.
    /// Refreshes wake nobody.
    /// </summary>
    public bool IsVisibleTo(string watchKey, bool recursive, bool includeHidden = false)
    {
        if (Refresh) return false;
        var key = Node.Key;
        if (string.Equals(key, watchKey, StringComparison.Ordinal)) return true;
        if (recursive && KeyPath.IsBelow(key, watchKey) && (includeHidden || !KeyPath.IsHiddenBelow(key, watchKey))) return true;
        return (Action == KeyAction.Delete || Action == KeyAction.Expire) && Node.Dir && KeyPath.IsBelow(watchKey, key);
    }

    /// <summary>etcd's wire name of an action.</summary>
    public static string Name(KeyAction action) => action switch
    {
        KeyAction.Get => "get",
        KeyAction.Set => "set",
        KeyAction.Create => "create",
        KeyAction.Update => "update",
        KeyAction.Delete => "delete",
        KeyAction.CompareAndSwap => "compareAndSwap",
        KeyAction.CompareAndDelete => "compareAndDelete",
        KeyAction.Expire => "expire",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "not a keys action"),
    };

    public override string ToString() => $"{ActionName} {Node.Key} @{Index}{(Refresh ? " (refresh)" : "")}";
}
