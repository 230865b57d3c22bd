namespace Platform.Grains.Keys;

/// <summary>
/// A durable event as the watch hub hands it to its watchers: one object per event per silo, with the etcd body
/// encoded once however many watchers receive it.
/// </summary>
public sealed class KeyWatchEvent(KeyEvent e)
{
    private byte[]? _etcdBody;

    public KeyEvent Event { get; } = e;

    /// <summary>The event as etcd writes a watch notification (newline included).</summary>
    public byte[] EtcdBody => _etcdBody ??= EtcdJson.Event(Event);
}

/// <summary>
/// One registered watch: completes with the first matching event, or with null when the hub closes it early (it
/// fell behind the history, or the silo is stopping); a client then watches again. Dispose when done.
/// </summary>
public sealed class KeyWatch : IDisposable
{
    private readonly TaskCompletionSource<KeyWatchEvent?> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly KeyWatchHub _hub;
    private CancellationTokenRegistration _ending;

    internal KeyWatch(KeyWatchHub hub, string key, bool recursive, bool includeHidden, Func<KeyEvent, bool>? filter)
    {
        _hub = hub;
        Key = key;
        Recursive = recursive;
        IncludeHidden = includeHidden;
        Filter = filter;
    }

    /// <summary>The watched key (normal form).</summary>
    public string Key { get; }

    public bool Recursive { get; }

    /// <summary>A recursive watch that also wakes for hidden (<c>_</c>) keys below it (Consul's listings).</summary>
    public bool IncludeHidden { get; }

    /// <summary>An extra test an event must pass (the Consul facade's string prefixes).</summary>
    public Func<KeyEvent, bool>? Filter { get; }

    /// <summary>The hub's index when the watch was registered: etcd's <c>X-Etcd-Index</c> of a watch.</summary>
    public ulong StartIndex { get; internal set; }

    /// <summary>The lowest index an event must have.</summary>
    internal ulong MinIndex { get; set; }

    /// <summary>Where the watch sits in the hub while it waits.</summary>
    internal LinkedListNode<KeyWatch>? Node { get; set; }

    /// <summary>The first matching event; null when the watch was closed early.</summary>
    public Task<KeyWatchEvent?> Event => _result.Task;

    internal bool Matches(KeyEvent e) => e.Index >= MinIndex && e.IsVisibleTo(Key, Recursive, IncludeHidden) && (Filter is null || Filter(e));

    internal void Complete(KeyWatchEvent? e) => _result.TrySetResult(e);

    /// <summary>
    /// Ends the watch (as if closed early) when <paramref name="token"/> is cancelled, such as when its client goes
    /// away: one registration for the watch's life instead of a cancellable wait per event.
    /// </summary>
    public void EndWhen(CancellationToken token) => _ending = token.UnsafeRegister(static w => ((KeyWatch)w!).Dispose(), this);

    public void Dispose()
    {
        _ending.Dispose();
        // A watch the hub woke is out of its index already; only one still waiting needs the hub's lock.
        if (Node is not null) _hub.Remove(this);
        _result.TrySetResult(null);
    }
}
