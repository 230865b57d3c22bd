using System.Globalization;

namespace Platform.Grains.Keys;

/// <summary>
/// One keyspace with etcd v2 store semantics (etcd's <c>store.go</c>): a tree of keys and directories, one global
/// index that every change advances by one, TTLs, and the history of recent events that watches read.
/// </summary>
/// <remarks>
/// Single-threaded by design: the keyspace grain's turns serialize every call, so there are no locks here.
/// Everything returned is a snapshot; callers never see live tree nodes. Time comes from a
/// <see cref="TimeProvider"/> (TTLs start from its now) and expiry runs only when <see cref="Expire"/> is called,
/// so the store is deterministic under test. A failed operation changes nothing.
/// </remarks>
public sealed class KeyStore
{
    private static readonly IComparer<KeyNode> s_byExpiry = Comparer<KeyNode>.Create(static (a, b) =>
    {
        var order = a.ExpiresAtTicks.CompareTo(b.ExpiresAtTicks);
        return order != 0 ? order : string.CompareOrdinal(a.Key, b.Key);
    });

    private readonly KeyNode _root;
    private readonly SortedSet<KeyNode> _expiring = new(s_byExpiry);
    private readonly TimeProvider _time;

    /// <summary>etcd's history window: 1,000 events.</summary>
    public const int DefaultHistoryCapacity = 1000;

    /// <summary>Creates an empty keyspace at index 0 that keeps the latest <paramref name="historyCapacity"/> events for watches.</summary>
    public KeyStore(int historyCapacity = DefaultHistoryCapacity, TimeProvider? timeProvider = null)
        : this(historyCapacity, timeProvider ?? TimeProvider.System, KeyNode.NewDirectory(KeyPath.Root, "", null, 0, KeyNode.Permanent), 0)
    {
    }

    /// <summary>Rebuilds a keyspace from a saved tree and index (see <see cref="KeyStoreSnapshot"/>).</summary>
    internal KeyStore(int historyCapacity, TimeProvider timeProvider, KeyNode root, ulong currentIndex)
    {
        if (historyCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(historyCapacity), historyCapacity, "the history capacity must be at least 1 event");
        }
        _time = timeProvider;
        _root = root;
        CurrentIndex = currentIndex;
        History = new EventHistory(historyCapacity);
        TrackExpiry(root);
    }

    /// <summary>The global index: the index of the latest change (0 before the first).</summary>
    public ulong CurrentIndex { get; private set; }

    /// <summary>The latest events, for watches.</summary>
    public EventHistory History { get; }

    /// <summary>When the next node expires, so the owner can schedule <see cref="Expire"/>; null when no node has a TTL.</summary>
    public DateTimeOffset? NextExpiration => _expiring.Count == 0 ? null : new DateTimeOffset(_expiring.Min!.ExpiresAtTicks, TimeSpan.Zero);

    internal KeyNode Root => _root;

    /// <summary>
    /// Reads a key, or lists a directory: its children, and with <paramref name="recursive"/> everything below,
    /// leaving hidden (<c>_</c>) keys out; <paramref name="sorted"/> orders each listing by key.
    /// </summary>
    public KeyEvent Get(string key, bool recursive = false, bool sorted = false, bool includeHidden = false)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        var node = Find(key);
        return new KeyEvent(KeyAction.Get, node.Snapshot(NowTicks(), list: node.IsDirectory, recursive, sorted, includeHidden), null, CurrentIndex);
    }

    /// <summary>
    /// Creates or replaces a key (with <paramref name="dir"/>, a directory; its value is ignored), creating missing
    /// parent directories. Replacing gives the node a new created index, as etcd does; a directory cannot be
    /// replaced (102). With <paramref name="refresh"/> the existing value is kept, only the TTL is reset, and the
    /// event wakes no watcher.
    /// </summary>
    public KeyEvent Set(string key, string value, TimeSpan? ttl = null, bool dir = false, bool refresh = false, ulong flags = 0)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        CheckRefresh(refresh, value, ttl);
        var expiresAt = ExpiryTicks(ttl);
        if (!dir) CheckValue(key, value);
        if (refresh)
        {
            var existing = Find(key);
            value = existing.Value;
            flags = existing.Flags;
        }
        return Put(key, dir, value, expiresAt, replace: true, KeyAction.Set, refresh, flags);
    }

    /// <summary>Creates a key (or with <paramref name="dir"/> a directory) that must not exist yet (105); etcd's <c>prevExist=false</c>.</summary>
    public KeyEvent Create(string key, string value, TimeSpan? ttl = null, bool dir = false, ulong flags = 0)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        var expiresAt = ExpiryTicks(ttl);
        if (!dir) CheckValue(key, value);
        return Put(key, dir, value, expiresAt, replace: false, KeyAction.Create, refresh: false, flags);
    }

    /// <summary>
    /// Creates a key in directory <paramref name="directoryKey"/> (created if missing) named by the global index
    /// of the change, zero-padded to 20 digits so names sort in creation order; etcd's POST.
    /// </summary>
    public KeyEvent CreateInOrder(string directoryKey, string value, TimeSpan? ttl = null, bool dir = false)
    {
        directoryKey = KeyPath.Normalize(directoryKey, CurrentIndex);
        var expiresAt = ExpiryTicks(ttl);
        if (!dir) CheckValue(directoryKey, value);
        var key = KeyPath.Combine(directoryKey, (CurrentIndex + 1).ToString("D20", CultureInfo.InvariantCulture));
        return Put(key, dir, value, expiresAt, replace: false, KeyAction.Create, refresh: false, flags: 0);
    }

    /// <summary>
    /// Changes an existing key's value (or only the TTL of a directory, whose value must stay empty); etcd's
    /// <c>prevExist=true</c>. Without <paramref name="ttl"/> the node loses any TTL it had. With
    /// <paramref name="refresh"/> the value is kept, only the TTL is reset, and the event wakes no watcher.
    /// </summary>
    public KeyEvent Update(string key, string value, TimeSpan? ttl = null, bool refresh = false, ulong flags = 0)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        if (key.Length == 1) throw new KeyException(KeyErrorCode.RootReadOnly, KeyPath.Root, CurrentIndex);
        CheckRefresh(refresh, value, ttl);
        var expiresAt = ExpiryTicks(ttl);
        var node = Find(key);
        if (node.IsDirectory && value.Length != 0) throw new KeyException(KeyErrorCode.NotFile, key, CurrentIndex);
        if (!node.IsDirectory) CheckValue(key, value);
        if (refresh) value = node.Value;
        // A directory named by a write is one in its own right from now on (a Consul folder key).
        if (node.IsDirectory) node.Implicit = false;
        return Modify(node, KeyAction.Update, value, expiresAt, refresh, refresh ? node.Flags : flags);
    }

    /// <summary>
    /// Changes a key only if its value is <paramref name="prevValue"/> and/or its modified index is
    /// <paramref name="prevIndex"/> (null or 0 tests nothing); otherwise 101 with a cause like <c>[two != one]</c>.
    /// Directories cannot be compared (102). TTL and refresh behave as in <see cref="Update"/>.
    /// </summary>
    public KeyEvent CompareAndSwap(string key, string? prevValue, ulong? prevIndex, string value, TimeSpan? ttl = null, bool refresh = false, ulong flags = 0)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        if (key.Length == 1) throw new KeyException(KeyErrorCode.RootReadOnly, KeyPath.Root, CurrentIndex);
        CheckRefresh(refresh, value, ttl);
        CheckPrevValue(prevValue);
        var expiresAt = ExpiryTicks(ttl);
        CheckValue(key, value);
        var node = Find(key);
        if (node.IsDirectory) throw new KeyException(KeyErrorCode.NotFile, key, CurrentIndex);
        Compare(node, prevValue, prevIndex);
        if (refresh) value = node.Value;
        return Modify(node, KeyAction.CompareAndSwap, value, expiresAt, refresh, refresh ? node.Flags : flags);
    }

    /// <summary>
    /// Deletes a key; a directory only with <paramref name="dir"/> (else 102) and, unless empty, only with
    /// <paramref name="recursive"/> (else 108), which implies <paramref name="dir"/>.
    /// </summary>
    public KeyEvent Delete(string key, bool dir = false, bool recursive = false)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        if (key.Length == 1) throw new KeyException(KeyErrorCode.RootReadOnly, KeyPath.Root, CurrentIndex);
        dir |= recursive;
        var node = Find(key);
        if (node.IsDirectory)
        {
            if (!dir) throw new KeyException(KeyErrorCode.NotFile, key, CurrentIndex);
            if (node.Children!.Count != 0 && !recursive) throw new KeyException(KeyErrorCode.DirNotEmpty, key, CurrentIndex);
        }
        return Remove(node, KeyAction.Delete, NowTicks());
    }

    /// <summary>Deletes a key only if its value and/or modified index match, as <see cref="CompareAndSwap"/> tests them.</summary>
    public KeyEvent CompareAndDelete(string key, string? prevValue, ulong? prevIndex)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        CheckPrevValue(prevValue);
        var node = Find(key);
        if (node.IsDirectory) throw new KeyException(KeyErrorCode.NotFile, key, CurrentIndex);
        Compare(node, prevValue, prevIndex);
        return Remove(node, KeyAction.CompareAndDelete, NowTicks());
    }

    /// <summary>
    /// Deletes every key and directory whose key starts with <paramref name="prefix"/> as a string (Consul's
    /// recursive delete): <c>/a/b</c> takes <c>/a/b</c>, <c>/a/bc</c> and everything below them; <c>/a/b/</c> takes the
    /// directory <c>/a/b</c>; <c>/</c> empties the keyspace. Each removed node is a <c>delete</c> event with its own
    /// index, in key order; nothing matching is no event.
    /// </summary>
    public IReadOnlyList<KeyEvent> DeleteByPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0 || prefix[0] != '/') prefix = "/" + prefix;
        var cut = prefix.LastIndexOf('/');
        var directoryKey = KeyPath.Normalize(prefix[..(cut + 1)], CurrentIndex);
        var namePrefix = prefix[(cut + 1)..];
        KeyNode directory;
        try
        {
            directory = Find(directoryKey);
        }
        catch (KeyException e) when (e.Code is KeyErrorCode.KeyNotFound or KeyErrorCode.NotDir)
        {
            return [];
        }
        if (!directory.IsDirectory) return [];
        List<KeyNode> doomed = [];
        if (namePrefix.Length == 0 && directoryKey.Length > 1)
        {
            doomed.Add(directory);
        }
        else
        {
            foreach (var child in directory.Children!.Values)
                if (child.Name.StartsWith(namePrefix, StringComparison.Ordinal)) doomed.Add(child);
            doomed.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        }
        var now = NowTicks();
        var events = new List<KeyEvent>(doomed.Count);
        foreach (var node in doomed) events.Add(Remove(node, KeyAction.Delete, now));
        return events;
    }

    /// <summary>
    /// Removes every node whose TTL ran out at or before <paramref name="now"/>, soonest first, each as an
    /// <c>expire</c> event with its own index; a directory goes with everything in it.
    /// </summary>
    public IReadOnlyList<KeyEvent> Expire(DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        List<KeyEvent>? expired = null;
        while (_expiring.Count != 0)
        {
            var node = _expiring.Min!;
            if (node.ExpiresAtTicks > nowTicks) break;
            (expired ??= []).Add(Remove(node, KeyAction.Expire, nowTicks));
        }
        return expired ?? (IReadOnlyList<KeyEvent>)[];
    }

    /// <summary>
    /// The first event a watch on <paramref name="key"/> would see from <paramref name="sinceIndex"/> on (0: from
    /// the next change), if it already happened; 401 when the history no longer reaches back that far.
    /// </summary>
    public KeyEvent? ScanHistory(string key, bool recursive, ulong sinceIndex, bool includeHidden = false)
    {
        key = KeyPath.Normalize(key, CurrentIndex);
        return History.Scan(key, recursive, sinceIndex == 0 ? CurrentIndex + 1 : sinceIndex, includeHidden);
    }

    /// <summary>Creates the node at <paramref name="key"/> at the next index (etcd's <c>internalCreate</c>).</summary>
    private KeyEvent Put(string key, bool dir, string value, long expiresAt, bool replace, KeyAction action, bool refresh, ulong flags)
    {
        if (key.Length == 1) throw new KeyException(KeyErrorCode.RootReadOnly, KeyPath.Root, CurrentIndex);
        var next = CurrentIndex + 1;
        var now = NowTicks();

        // Walk the parent directories, creating the missing ones. Nothing can fail once one is created (below a
        // new directory there is nothing to conflict with), so a failed call leaves the tree as it was.
        var parent = _root;
        var lastSlash = key.LastIndexOf('/');
        for (var start = 1; start <= lastSlash;)
        {
            var slash = key.IndexOf('/', start);
            var child = parent.Child(key.AsSpan(start, slash - start));
            if (child is null)
            {
                var directoryKey = key.Substring(0, slash);
                child = KeyNode.NewDirectory(directoryKey, KeyPath.Name(directoryKey), parent, next, KeyNode.Permanent);
                child.Implicit = true;
                parent.Children!.Add(child.Name, child);
            }
            else if (!child.IsDirectory)
            {
                throw new KeyException(KeyErrorCode.NotDir, child.Key, CurrentIndex);
            }
            parent = child;
            start = slash + 1;
        }

        var name = key.AsSpan(lastSlash + 1);
        var existing = parent.Child(name);
        KeyNodeSnapshot? previous = null;
        if (existing is not null)
        {
            if (!replace) throw new KeyException(KeyErrorCode.NodeExist, key, CurrentIndex);
            if (existing.IsDirectory) throw new KeyException(KeyErrorCode.NotFile, key, CurrentIndex);
            previous = existing.Snapshot(now);
            if (existing.HasTtl) _expiring.Remove(existing);
            if (!dir)
            {
                // A key replaced by a key: etcd makes a new node; writing the old one in place is the same to
                // every observer (the created index is renewed) and saves an allocation on the hottest path.
                existing.Value = value;
                existing.CreatedIndex = next;
                existing.ModifiedIndex = next;
                existing.ExpiresAtTicks = expiresAt;
                existing.Flags = flags;
                if (existing.HasTtl) _expiring.Add(existing);
                return Record(new KeyEvent(action, existing.Snapshot(now), previous, next, refresh));
            }
            existing.Parent = null;
        }

        var nodeName = existing?.Name ?? name.ToString();
        var node = dir
            ? KeyNode.NewDirectory(key, nodeName, parent, next, expiresAt)
            : KeyNode.NewFile(key, nodeName, parent, value, next, expiresAt);
        node.Flags = flags;
        parent.Children![nodeName] = node;
        if (node.HasTtl) _expiring.Add(node);
        return Record(new KeyEvent(action, node.Snapshot(now), previous, next, refresh));
    }

    /// <summary>Writes a new value and TTL into an existing node at the next index (update and compare-and-swap).</summary>
    private KeyEvent Modify(KeyNode node, KeyAction action, string value, long expiresAt, bool refresh, ulong flags)
    {
        var next = CurrentIndex + 1;
        var now = NowTicks();
        var previous = node.Snapshot(now);
        if (!node.IsDirectory) node.Value = value;
        node.Flags = flags;
        // As etcd: a directory's update (its TTL) leaves its modifiedIndex in the tree alone; only the event reports the new index.
        if (!node.IsDirectory) node.ModifiedIndex = next;
        if (node.HasTtl) _expiring.Remove(node);
        node.ExpiresAtTicks = expiresAt;
        if (node.HasTtl) _expiring.Add(node);
        var after = node.Snapshot(now);
        if (node.IsDirectory) after = new KeyNodeSnapshot(after.Key, after.Value, after.Dir, after.Expiration, after.Ttl, after.Nodes, next, after.CreatedIndex, after.Flags);
        return Record(new KeyEvent(action, after, previous, next, refresh));
    }

    /// <summary>Takes a node (and everything below it) out of the tree at the next index (delete, compare-and-delete, expire).</summary>
    private KeyEvent Remove(KeyNode node, KeyAction action, long nowTicks)
    {
        var next = CurrentIndex + 1;
        var previous = node.Snapshot(nowTicks);
        node.Parent!.Children!.Remove(node.Name);
        node.Parent = null;
        Untrack(node);
        var gone = new KeyNodeSnapshot(node.Key, null, node.IsDirectory, null, 0, null, next, node.CreatedIndex);
        return Record(new KeyEvent(action, gone, previous, next));
    }

    private KeyEvent Record(KeyEvent e)
    {
        CurrentIndex = e.Index;
        History.Add(e);
        return e;
    }

    /// <summary>The node at a normal key, or 100 naming the first missing key on the way, or 104 naming a key in the way.</summary>
    private KeyNode Find(string key)
    {
        var node = _root;
        for (var start = 1; start < key.Length;)
        {
            if (!node.IsDirectory) throw new KeyException(KeyErrorCode.NotDir, node.Key, CurrentIndex);
            var slash = key.IndexOf('/', start);
            var end = slash < 0 ? key.Length : slash;
            node = node.Child(key.AsSpan(start, end - start))
                ?? throw new KeyException(KeyErrorCode.KeyNotFound, key.Substring(0, end), CurrentIndex);
            start = end + 1;
        }
        return node;
    }

    private void Compare(KeyNode node, string? prevValue, ulong? prevIndex)
    {
        var index = prevIndex ?? 0;
        var indexMatch = index == 0 || node.ModifiedIndex == index;
        var valueMatch = prevValue is null || node.Value == prevValue;
        if (indexMatch && valueMatch) return;
        var cause = (indexMatch, valueMatch) switch
        {
            (true, false) => $"[{prevValue} != {node.Value}]",
            (false, true) => $"[{index} != {node.ModifiedIndex}]",
            _ => $"[{prevValue} != {node.Value}] [{index} != {node.ModifiedIndex}]",
        };
        throw new KeyException(KeyErrorCode.TestFailed, cause, CurrentIndex);
    }

    private void CheckPrevValue(string? prevValue)
    {
        // etcd reads an empty prevValue as "not given" in its store and refuses it in its HTTP layer; refuse it here.
        if (prevValue is { Length: 0 }) throw new KeyException(KeyErrorCode.PrevValueRequired, "\"prevValue\" cannot be empty", CurrentIndex);
    }

    private void CheckRefresh(bool refresh, string value, TimeSpan? ttl)
    {
        if (!refresh) return;
        if (value.Length != 0) throw new KeyException(KeyErrorCode.RefreshValue, "A value was provided on a refresh", CurrentIndex);
        if (ttl is null) throw new KeyException(KeyErrorCode.RefreshTtlRequired, "No TTL value set", CurrentIndex);
    }

    private void CheckValue(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var bad = KeyPath.FindUnpairedSurrogate(value);
        if (bad >= 0)
        {
            throw new KeyException(KeyErrorCode.InvalidField, $"invalid value for {KeyPath.Quote(key)}: unpaired surrogate U+{(int)value[bad]:X4} at position {bad}", CurrentIndex);
        }
    }

    /// <summary>When a TTL given now runs out, in UTC ticks; <see cref="KeyNode.Permanent"/> without one.</summary>
    private long ExpiryTicks(TimeSpan? ttl)
    {
        if (ttl is not { } span) return KeyNode.Permanent;
        if (span < TimeSpan.Zero) throw new KeyException(KeyErrorCode.TtlNaN, $"invalid value for \"ttl\": {span.TotalSeconds} seconds is negative", CurrentIndex);
        var now = NowTicks();
        if (span.Ticks > DateTime.MaxValue.Ticks - now) throw new KeyException(KeyErrorCode.TtlNaN, $"invalid value for \"ttl\": {span.TotalSeconds} seconds is too large", CurrentIndex);
        return now + span.Ticks;
    }

    private long NowTicks() => _time.GetUtcNow().UtcTicks;

    private void Untrack(KeyNode node)
    {
        if (node.HasTtl) _expiring.Remove(node);
        if (node.Children is null) return;
        foreach (var child in node.Children.Values) Untrack(child);
    }

    private void TrackExpiry(KeyNode node)
    {
        if (node.HasTtl) _expiring.Add(node);
        if (node.Children is null) return;
        foreach (var child in node.Children.Values) TrackExpiry(child);
    }
}
