namespace Platform.Grains.Keys;

/// <summary>
/// A live node of the keyspace tree: a key with a value, or a directory with children. Only <see cref="KeyStore"/>
/// touches these; everything it hands out is a <see cref="KeyNodeSnapshot"/>.
/// </summary>
internal sealed class KeyNode
{
    /// <summary>Expiry ticks of a node without a TTL.</summary>
    public const long Permanent = 0;

    private KeyNode(string key, string name, KeyNode? parent, string value, Dictionary<string, KeyNode>? children, ulong createdIndex, long expiresAtTicks)
    {
        Key = key;
        Name = name;
        Parent = parent;
        Value = value;
        Children = children;
        CreatedIndex = createdIndex;
        ModifiedIndex = createdIndex;
        ExpiresAtTicks = expiresAtTicks;
    }

    public static KeyNode NewFile(string key, string name, KeyNode parent, string value, ulong index, long expiresAtTicks) =>
        new(key, name, parent, value, null, index, expiresAtTicks);

    public static KeyNode NewDirectory(string key, string name, KeyNode? parent, ulong index, long expiresAtTicks) =>
        new(key, name, parent, "", new Dictionary<string, KeyNode>(StringComparer.Ordinal), index, expiresAtTicks);

    /// <summary>The full normal key, e.g. <c>/a/b</c>.</summary>
    public string Key { get; }

    /// <summary>The last segment of <see cref="Key"/>: this node's name in its parent's children.</summary>
    public string Name { get; }

    /// <summary>The directory holding this node; null for the root and for a node taken out of the tree.</summary>
    public KeyNode? Parent { get; set; }

    /// <summary>The value of a key; "" for a directory.</summary>
    public string Value { get; set; }

    /// <summary>The children of a directory by name; null for a key.</summary>
    public Dictionary<string, KeyNode>? Children { get; }

    public bool IsDirectory => Children is not null;

    /// <summary>
    /// A directory that exists only because a key was written below it, never named by a write itself: not a Consul
    /// key (Consul lists only what was put). etcd shows every directory alike.
    /// </summary>
    public bool Implicit { get; set; }

    public ulong CreatedIndex { get; set; }

    public ulong ModifiedIndex { get; set; }

    /// <summary>UTC ticks at which the node expires, or <see cref="Permanent"/>.</summary>
    public long ExpiresAtTicks { get; set; }

    public bool HasTtl => ExpiresAtTicks != Permanent;

    /// <summary>An opaque number clients attach to a key (Consul's <c>Flags</c>); etcd's API never shows it.</summary>
    public ulong Flags { get; set; }

    public bool IsHidden => Name.Length > 0 && Name[0] == '_';

    /// <summary>Looks a child up by a name that is a slice of some key, without allocating.</summary>
    public KeyNode? Child(ReadOnlySpan<char> name) =>
        Children!.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var child) ? child : null;

    /// <summary>
    /// etcd's remaining TTL in whole seconds: the ceiling of the time left (so 1..n while alive), as
    /// <c>expirationAndTTL</c> in etcd's <c>node.go</c> computes it.
    /// </summary>
    public long TtlSeconds(long nowTicks)
    {
        var left = ExpiresAtTicks - nowTicks;
        var seconds = left / TimeSpan.TicksPerSecond;
        return left % TimeSpan.TicksPerSecond > 0 ? seconds + 1 : seconds;
    }

    /// <summary>
    /// A copy of this node at <paramref name="nowTicks"/>. A directory lists its children only when
    /// <paramref name="list"/> is set, and its grandchildren only when <paramref name="recursive"/> is; hidden
    /// children are listed only with <paramref name="includeHidden"/>.
    /// </summary>
    public KeyNodeSnapshot Snapshot(long nowTicks, bool list = false, bool recursive = false, bool sorted = false, bool includeHidden = false)
    {
        DateTimeOffset? expiration = HasTtl ? new DateTimeOffset(ExpiresAtTicks, TimeSpan.Zero) : null;
        var ttl = HasTtl ? TtlSeconds(nowTicks) : 0;
        if (Children is null) return new KeyNodeSnapshot(Key, Value, false, expiration, ttl, null, ModifiedIndex, CreatedIndex, Flags);

        KeyNodeSnapshot[]? nodes = null;
        if (list)
        {
            var count = 0;
            foreach (var child in Children.Values)
            {
                if (includeHidden || !child.IsHidden) count++;
            }
            nodes = count == 0 ? [] : new KeyNodeSnapshot[count];
            var i = 0;
            foreach (var child in Children.Values)
            {
                if (includeHidden || !child.IsHidden) nodes[i++] = child.Snapshot(nowTicks, recursive, recursive, sorted, includeHidden);
            }
            if (sorted && nodes.Length > 1) Array.Sort(nodes, KeyNodeSnapshot.ByKey);
        }
        return new KeyNodeSnapshot(Key, null, true, expiration, ttl, nodes, ModifiedIndex, CreatedIndex, Flags, Implicit);
    }
}
