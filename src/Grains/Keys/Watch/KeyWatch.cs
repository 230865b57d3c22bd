namespace Platform.Grains.Keys;

/// <summary>
/// A durable event as the watch hub hands it to its watchers: one object per event per silo, shared by every watcher
/// it wakes, with a slot for the event as a front end writes it (<see cref="Rendered{T}"/>), made once.
/// </summary>
public sealed class KeyWatchEvent(KeyEvent e)
{
    private object? _rendered;

    public KeyEvent Event { get; } = e;

    /// <summary>
    /// The event as <paramref name="render"/> makes it, made by the first watcher that asks and shared with the rest
    /// (racing first callers may each render; one result wins). One rendering per event: a second kind is not kept.
    /// </summary>
    public T Rendered<T>(Func<KeyEvent, T> render) where T : class
    {
        if (Volatile.Read(ref _rendered) is T done) return done;
        var mine = render(Event);
        return Interlocked.CompareExchange(ref _rendered, mine, null) as T ?? mine;
    }
}

/// <summary>
/// One registered watch: completes with the first matching event, or with null when the hub closes it early (it
/// fell behind the history, or the silo is stopping); a client then watches again. Dispose when done.
/// </summary>
public sealed class KeyWatch : IDisposable
{
    /// <summary>
    /// The outcome once completed: the event, or <see cref="s_closed"/>. The task that awaits it is made only when
    /// something asks for <see cref="Event"/>: a watch that a front end answers through <see cref="OnCompleted"/> (the
    /// etcd fast path) never needs one, and a fan-out then reaches one object less per watcher.
    /// </summary>
    private object? _outcome;
    private TaskCompletionSource<KeyWatchEvent?>? _waiter;
    private static readonly object s_closed = new();
    private readonly KeyWatchHub _hub;
    private CancellationTokenRegistration _ending;

    /// <summary>The handler <see cref="OnCompleted"/> set; <see cref="s_fired"/> once it ran (or is running).</summary>
    private object? _handler;
    private object? _handlerState;
    private static readonly object s_fired = new();

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

    /// <summary>The index the watch started from (the hub's, or the keyspace's read index if later): etcd's <c>X-Etcd-Index</c> of a watch.</summary>
    public ulong StartIndex { get; internal set; }

    /// <summary>The lowest index an event must have.</summary>
    internal ulong MinIndex { get; set; }

    /// <summary>The hub's list the watch sits in while it waits (a detached list has woken all of its watches).</summary>
    internal KeyWatchList? List { get; set; }

    /// <summary>The watch's place in <see cref="List"/>.</summary>
    internal int Slot { get; set; }

    /// <summary>The first matching event; null when the watch was closed early.</summary>
    public Task<KeyWatchEvent?> Event
    {
        get
        {
            var waiter = Volatile.Read(ref _waiter);
            if (waiter is null)
            {
                var mine = new TaskCompletionSource<KeyWatchEvent?>(TaskCreationOptions.RunContinuationsAsynchronously);
                // A full fence between publishing the waiter and looking at the outcome, as Complete has between
                // setting the outcome and looking for a waiter: one of the two sees the other.
                waiter = Interlocked.CompareExchange(ref _waiter, mine, null) ?? mine;
            }
            if (Volatile.Read(ref _outcome) is { } outcome) waiter.TrySetResult(Unwrap(outcome));
            return waiter.Task;
        }
    }

    private static KeyWatchEvent? Unwrap(object outcome) => ReferenceEquals(outcome, s_closed) ? null : (KeyWatchEvent)outcome;

    internal bool Matches(KeyEvent e) => e.Index >= MinIndex && e.IsVisibleTo(Key, Recursive, IncludeHidden) && (Filter is null || Filter(e));

    internal void Complete(KeyWatchEvent? e)
    {
        if (Interlocked.CompareExchange(ref _outcome, e ?? s_closed, null) is not null) return;
        // The waiter first: a handler that throws must not leave it waiting.
        Volatile.Read(ref _waiter)?.TrySetResult(e);
        RunHandler(e);
    }

    /// <summary>
    /// Runs <paramref name="handler"/> once with the watch's outcome (the event, or null when closed early), on the
    /// thread that completes the watch: the hub's delivery, which splits a large fan-out over the cores. Meant for a
    /// handler that only starts a non-blocking send of bytes it already has; at once if the watch completed already.
    /// </summary>
    public void OnCompleted(Action<KeyWatchEvent?, object?> handler, object? state)
    {
        _handlerState = state;
        // A full fence between setting the handler and looking at the result, as Complete has between the two.
        Interlocked.Exchange(ref _handler, handler);
        if (Volatile.Read(ref _outcome) is { } outcome) RunHandler(Unwrap(outcome));
    }

    private void RunHandler(KeyWatchEvent? e)
    {
        if (Volatile.Read(ref _handler) is not Action<KeyWatchEvent?, object?> handler) return;
        if (ReferenceEquals(Interlocked.CompareExchange(ref _handler, s_fired, handler), handler)) handler(e, _handlerState);
    }

    /// <summary>
    /// Ends the watch (as if closed early) when <paramref name="token"/> is cancelled, such as when its client goes
    /// away: one registration for the watch's life instead of a cancellable wait per event.
    /// </summary>
    public void EndWhen(CancellationToken token) => _ending = token.UnsafeRegister(static w => ((KeyWatch)w!).Dispose(), this);

    public void Dispose()
    {
        _ending.Dispose();
        // A watch the hub woke is out of its index already; only one still waiting needs the hub's lock.
        if (List is { Detached: false }) _hub.Remove(this);
        Complete(null);
    }
}
