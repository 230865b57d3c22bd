namespace Platform.Grains.Keys;

/// <summary>
/// An immutable copy of a node as etcd v2 shows it (its <c>NodeExtern</c>): what replies, events and listings
/// carry. Later changes to the store never change a snapshot.
/// </summary>
public sealed class KeyNodeSnapshot
{
    public KeyNodeSnapshot(
        string key, string? value, bool dir, DateTimeOffset? expiration, long ttl,
        IReadOnlyList<KeyNodeSnapshot>? nodes, ulong modifiedIndex, ulong createdIndex, ulong flags = 0, bool @implicit = false)
    {
        // Named as the property: the cluster's codec (JSON) binds constructor parameters to properties by name.
        Implicit = dir && @implicit;
        Flags = flags;
        Key = key;
        Value = value;
        Dir = dir;
        Expiration = expiration;
        Ttl = ttl;
        Nodes = nodes;
        ModifiedIndex = modifiedIndex;
        CreatedIndex = createdIndex;
    }

    /// <summary>Orders snapshots by key as etcd's <c>sorted=true</c> does.</summary>
    public static IComparer<KeyNodeSnapshot> ByKey { get; } = Comparer<KeyNodeSnapshot>.Create((a, b) => KeyPath.Compare(a.Key, b.Key));

    /// <summary>The node's full key, e.g. <c>/build/notify</c> (<c>/</c> for the root).</summary>
    public string Key { get; }

    /// <summary>The value of a key; null for a directory and in the node of a delete or expire event.</summary>
    public string? Value { get; }

    /// <summary>True for a directory.</summary>
    public bool Dir { get; }

    /// <summary>When the node expires (UTC); null for a node without a TTL.</summary>
    public DateTimeOffset? Expiration { get; }

    /// <summary>Seconds left to live when the snapshot was taken, rounded up; 0 without a TTL.</summary>
    public long Ttl { get; }

    /// <summary>The listed children of a directory (hidden ones left out); null when the directory was not listed.</summary>
    public IReadOnlyList<KeyNodeSnapshot>? Nodes { get; }

    /// <summary>The global index of the node's last change.</summary>
    public ulong ModifiedIndex { get; }

    /// <summary>The global index at which the node was created.</summary>
    public ulong CreatedIndex { get; }

    /// <summary>A directory made only by writing below it, never named by a write (not a Consul key); not part of etcd's JSON.</summary>
    public bool Implicit { get; }

    /// <summary>The number a client attached to the key (Consul's <c>Flags</c>; not part of etcd's JSON).</summary>
    public ulong Flags { get; }

    public override string ToString() =>
        Dir ? $"{Key}/ (dir, created {CreatedIndex}, modified {ModifiedIndex})"
            : $"{Key} = {Value} (created {CreatedIndex}, modified {ModifiedIndex})";
}
