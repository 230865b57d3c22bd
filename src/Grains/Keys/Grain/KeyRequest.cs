namespace Platform.Grains.Keys;

/// <summary>The keyspace operations a request can ask for (etcd v2's store calls).</summary>
public enum KeyOp : byte
{
    Get,
    Set,
    Create,
    CreateInOrder,
    Update,
    CompareAndSwap,
    Delete,
    CompareAndDelete,

    /// <summary>Deletes every key starting with <see cref="KeyRequest.Key"/> as a string (Consul's recursive delete).</summary>
    DeletePrefix,

    /// <summary>TTL expiry; only the keyspace itself issues it (journal records only).</summary>
    Expire,
}

/// <summary>
/// One keys operation and its arguments, as a facade parsed it from a request. Writes are journaled as they were
/// asked, with the time they ran at, and replayed the same way on activation.
/// </summary>
public sealed class KeyRequest
{
    public KeyOp Op { get; init; }

    /// <summary>The key as given (normalized by the store); for <see cref="KeyOp.CreateInOrder"/>, the directory.</summary>
    public string Key { get; init; } = KeyPath.Root;

    public string Value { get; init; } = "";

    /// <summary>The TTL; null for none.</summary>
    public TimeSpan? Ttl { get; init; }

    public bool Dir { get; init; }

    public bool Recursive { get; init; }

    public bool Sorted { get; init; }

    public bool Refresh { get; init; }

    public string? PrevValue { get; init; }

    public ulong? PrevIndex { get; init; }

    /// <summary>The number a client attaches to the key (Consul's <c>flags</c>).</summary>
    public ulong Flags { get; init; }

    /// <summary>Lists hidden (<c>_</c>) keys too (Consul shows every key).</summary>
    public bool IncludeHidden { get; init; }

    /// <summary>Applies this request to <paramref name="store"/>; throws <see cref="KeyException"/> as the store does.</summary>
    public KeyEvent ApplyTo(KeyStore store) => Op switch
    {
        KeyOp.Get => store.Get(Key, Recursive, Sorted, IncludeHidden),
        KeyOp.Set => store.Set(Key, Value, Ttl, Dir, Refresh, Flags),
        KeyOp.Create => store.Create(Key, Value, Ttl, Dir, Flags),
        KeyOp.CreateInOrder => store.CreateInOrder(Key, Value, Ttl, Dir),
        KeyOp.Update => store.Update(Key, Value, Ttl, Refresh, Flags),
        KeyOp.CompareAndSwap => store.CompareAndSwap(Key, PrevValue, PrevIndex, Value, Ttl, Refresh, Flags),
        KeyOp.Delete => store.Delete(Key, Dir, Recursive),
        KeyOp.CompareAndDelete => store.CompareAndDelete(Key, PrevValue, PrevIndex),
        _ => throw new ArgumentOutOfRangeException(nameof(Op), Op, "not a request a client can make"),
    };

    /// <summary>Applies this request; the events it made, in index order (none for a prefix that matched nothing).</summary>
    public IReadOnlyList<KeyEvent> ApplyAllTo(KeyStore store) => Op == KeyOp.DeletePrefix ? store.DeleteByPrefix(Key) : [ApplyTo(store)];

    public override string ToString() => $"{Op} {Key}";
}

/// <summary>
/// The outcome of a keys operation: the event, or an etcd error (code, cause and the index it failed at), plus the
/// keyspace's durable index when it answered (etcd's <c>X-Etcd-Index</c> for a failure).
/// </summary>
public sealed class KeyResult
{
    public KeyEvent? Event { get; init; }

    public KeyErrorCode ErrorCode { get; init; }

    public string? ErrorCause { get; init; }

    public ulong ErrorIndex { get; init; }

    /// <summary>The journal's epoch: etcd's <c>X-Raft-Term</c>.</summary>
    public long Term { get; init; }

    /// <summary>
    /// The request was refused before anything of it was stored (the keyspace's activation was fenced by a newer one,
    /// or had already broken): nothing changed, so the same request may be sent again.
    /// </summary>
    public bool NotApplied { get; init; }

    public bool Failed => Event is null && ErrorCode != 0;

    public static KeyResult From(KeyException e, long term) => new() { ErrorCode = e.Code, ErrorCause = e.Cause, ErrorIndex = e.Index, Term = term };
}
