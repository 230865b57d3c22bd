using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;

namespace Platform.Grains.Keys;

/// <summary>
/// A silo's watches on the keyspace. The hub subscribes once to the keyspace grain (wherever in the cluster it
/// lives) and receives every durable event once, in index order; each of its local watchers waits on the hub, not
/// on the grain, so a thousand watchers on this silo cost the grain one notification per event.
/// </summary>
/// <remarks>
/// <para>Watches are kept by key (and, for recursive ones, by the watched directory), so an event wakes its
/// watchers by a few dictionary lookups, not a scan; when every watch on a key is alike (the usual thousand long
/// polls) the event takes the whole list at once, and the watches are woken off the lock, in one work item per
/// core. Waking a watcher completes a task, or runs its inline handler, which only starts a non-blocking send of
/// the event's shared bytes; so a slow or gone client holds up nobody.</para>
/// <para>Nothing is lost silently: the hub keeps the recent events, checks that indexes follow each other, and
/// fetches what it missed from the grain (on a gap, and every second when it renews its subscription). If the
/// grain's history no longer reaches back, the waiting watches are closed early (an empty reply, as etcd gives) and
/// their clients watch again from their last index, getting either the events or error 401.</para>
/// </remarks>
public sealed class KeyWatchHub : IKeyspaceObserver, IHostedService, IDisposable
{
    /// <summary>The keyspace the facades serve.</summary>
    public const string DefaultKeyspace = "default";

    private readonly IGrainFactory _grains;
    private readonly KeyspaceOptions _options;
    private readonly ILogger<KeyWatchHub> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, KeyWatchList> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyWatchList> _recursive = new(StringComparer.Ordinal);
    private readonly PriorityQueue<TaskCompletionSource, ulong> _seen = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private EventHistory _recent;
    private ulong _lastIndex;
    private IKeyspaceObserver? _self;
    private Task? _renewing;
    private int _catchUpRequested;
    private int _watchCount;
    private volatile bool _closing;

    public KeyWatchHub(IGrainFactory grains, IOptions<KeyspaceOptions> options, ILogger<KeyWatchHub> logger, IHostApplicationLifetime? lifetime = null)
    {
        // Long polls would hold a graceful stop until its timeout: when the silo starts stopping they end, empty, as etcd's do.
        lifetime?.ApplicationStopping.Register(() =>
        {
            _closing = true;
            CloseAll();
        });
        _grains = grains;
        _options = options.Value;
        _logger = logger;
        _recent = new EventHistory(_options.HistoryCapacity);
    }

    /// <summary>The keyspace grain.</summary>
    public IKeyspaceGrain Keyspace => _grains.GetGrain<IKeyspaceGrain>(DefaultKeyspace);

    /// <summary>The index of the latest event this hub has seen.</summary>
    public ulong LastIndex
    {
        get { lock (_lock) return _lastIndex; }
    }

    /// <summary>The keyspace journal's epoch as of the last renewal: etcd's <c>X-Raft-Term</c> of a watch.</summary>
    public long Term { get; private set; }

    /// <summary>Watches waiting for an event.</summary>
    public int WatchCount => Volatile.Read(ref _watchCount);

    /// <summary>Completes once the hub has caught up with the keyspace after start.</summary>
    public Task Ready => _ready.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _self = _grains.CreateObjectReference<IKeyspaceObserver>(this);
        _renewing = RenewLoop(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_renewing is { } renewing) await renewing.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        CloseAll();
        _ready.TrySetException(new OperationCanceledException("the silo is stopping"));
        if (_self is { } self) _grains.DeleteObjectReference(self);
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>
    /// Registers a watch on <paramref name="key"/> (normal form): the first event at or after
    /// <paramref name="waitIndex"/> (0: after the hub's current index), from the history if it already happened.
    /// Throws <see cref="KeyException"/> 401 when the history no longer reaches back to <paramref name="waitIndex"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="includeHidden"/> lets a recursive watch wake for hidden keys below it; <paramref name="filter"/>
    /// is an extra test an event must pass.
    /// </remarks>
    public async ValueTask<KeyWatch> WatchAsync(string key, bool recursive, ulong waitIndex, Func<KeyEvent, bool>? filter = null, bool includeHidden = false, CancellationToken cancellationToken = default)
    {
        if (!_ready.Task.IsCompleted) await _ready.Task.WaitAsync(cancellationToken);
        var watch = new KeyWatch(this, key, recursive, includeHidden, filter);
        var since = waitIndex;
        while (true)
        {
            lock (_lock)
            {
                watch.StartIndex = _lastIndex;
                if (since == 0) since = _lastIndex + 1;
                if (since > _lastIndex)
                {
                    Add(watch, since);
                    return watch;
                }
                if (_recent.Count != 0 && _recent.StartIndex <= since)
                {
                    if (ScanRecent(watch, since) is { } found) watch.Complete(new KeyWatchEvent(found));
                    else Add(watch, _lastIndex + 1);
                    return watch;
                }
            }

            // This hub's recent events do not reach back that far: the grain's history decides (event, nothing yet, or 401).
            var answer = await Keyspace.ScanHistory(key, recursive, since, includeHidden);
            if (answer.Failed) throw new KeyException(answer.ErrorCode, answer.ErrorCause ?? "", answer.ErrorIndex);
            if (answer.Event is { } e && watch.Matches(e))
            {
                lock (_lock) watch.StartIndex = _lastIndex;
                watch.Complete(new KeyWatchEvent(e));
                return watch;
            }
            // Nothing up to the grain's durable index (or what it found fails the filter): go on after it.
            since = Math.Max(since, (answer.Event?.Index ?? answer.ErrorIndex) + 1);
        }
    }

    /// <summary>How long a write's reply waits for the hub to have seen the write before it goes out anyway.</summary>
    private static readonly TimeSpan s_seenWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Completes once this hub has seen <paramref name="index"/> (at most one second later: a reply is never held up
    /// longer), so that a watch the same client makes next on this silo never wakes for its own write. Facades call
    /// it after every write before they answer.
    /// </summary>
    public Task WaitSeenAsync(ulong index, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource seen;
        lock (_lock)
        {
            if (_lastIndex >= index) return Task.CompletedTask;
            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _seen.Enqueue(seen, index);
        }
        return WaitBounded(seen.Task, cancellationToken);

        static async Task WaitBounded(Task seen, CancellationToken cancellationToken)
        {
            try
            {
                await seen.WaitAsync(s_seenWait, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>Events from the keyspace grain, in index order.</summary>
    public Task OnEvents(KeyEventBatch batch)
    {
        Deliver(batch.Events);
        return Task.CompletedTask;
    }

    internal void Remove(KeyWatch watch)
    {
        lock (_lock)
        {
            if (watch.List is not { Detached: false } list) return;
            list.Remove(watch);
            _watchCount--;
            if (list.Count == 0) (watch.Recursive ? _recursive : _exact).Remove(watch.Key);
        }
    }

    /// <summary>Registers a watch for events from <paramref name="minIndex"/> on; a stopping hub closes it instead. Under the lock.</summary>
    private void Add(KeyWatch watch, ulong minIndex)
    {
        watch.MinIndex = minIndex;
        if (_closing)
        {
            watch.Complete(null);
            return;
        }
        var index = watch.Recursive ? _recursive : _exact;
        if (!index.TryGetValue(watch.Key, out var list)) index.Add(watch.Key, list = new KeyWatchList());
        list.Add(watch);
        _watchCount++;
    }

    /// <summary>Moves the write waiters this hub has now seen into <paramref name="seen"/>. Under the lock.</summary>
    private void TakeSeen(ref List<TaskCompletionSource>? seen)
    {
        while (_seen.TryPeek(out _, out var index) && index <= _lastIndex) (seen ??= []).Add(_seen.Dequeue());
    }

    private KeyEvent? ScanRecent(KeyWatch watch, ulong since)
    {
        for (var position = (int)(since - _recent.StartIndex); position < _recent.Count; position++)
        {
            var e = _recent[position];
            // MinIndex is not set yet: every event from since on counts.
            if (watch.Matches(e)) return e;
        }
        return null;
    }

    /// <summary>Takes events in order, wakes the watches they match, and asks the grain for what is missing on a gap.</summary>
    private void Deliver(IReadOnlyList<KeyEvent> events)
    {
        Woken? woken = null;
        List<TaskCompletionSource>? seen = null;
        var gap = false;
        lock (_lock)
        {
            foreach (var e in events)
            {
                if (e.Index <= _lastIndex) continue;
                if (e.Index != _lastIndex + 1)
                {
                    gap = true;
                    break;
                }
                _recent.Add(e);
                _lastIndex = e.Index;
                if (_watchCount != 0) Match(e, ref woken);
            }
            TakeSeen(ref seen);
        }
        // Writers first: their replies would otherwise queue behind every woken watcher's.
        if (seen is not null)
            foreach (var s in seen) s.TrySetResult();
        woken?.Wake(this);
        if (gap) RequestCatchUp();
    }

    /// <summary>Moves every watch <paramref name="e"/> wakes into <paramref name="woken"/>.</summary>
    private void Match(KeyEvent e, ref Woken? woken)
    {
        if (e.Refresh) return;
        KeyWatchEvent? shared = null;
        var key = e.Node.Key;
        Take(_exact, key, e, ref shared, ref woken);
        for (var ancestor = key; ; ancestor = KeyPath.Parent(ancestor))
        {
            Take(_recursive, ancestor, e, ref shared, ref woken);
            if (ancestor.Length == 1) break;
        }
        if (e.Node.Dir && e.Action is KeyAction.Delete or KeyAction.Expire)
        {
            // Watches on keys inside a removed directory hear of it too.
            foreach (var index in (ReadOnlySpan<Dictionary<string, KeyWatchList>>)[_exact, _recursive])
            {
                List<string>? inside = null;
                foreach (var watched in index.Keys)
                    if (KeyPath.IsBelow(watched, key)) (inside ??= []).Add(watched);
                if (inside is not null)
                    foreach (var watched in inside) Take(index, watched, e, ref shared, ref woken);
            }
        }
    }

    private void Take(Dictionary<string, KeyWatchList> index, string watched, KeyEvent e, ref KeyWatchEvent? shared, ref Woken? woken)
    {
        if (!index.TryGetValue(watched, out var list)) return;
        if (list.AllAlike(e))
        {
            // One watch decides for all (the common case: a thousand long polls on one key): the whole list leaves
            // the index at once, and its watches are woken off the lock, split over the cores.
            if (!list[0].Matches(e)) return;
            index.Remove(watched);
            list.Detached = true;
            _watchCount -= list.Count;
            (woken ??= new Woken()).Add(list, shared ??= new KeyWatchEvent(e));
            return;
        }
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var watch = list[i];
            if (!watch.Matches(e)) continue;
            list.Remove(watch);
            _watchCount--;
            (woken ??= new Woken()).Add(watch, shared ??= new KeyWatchEvent(e));
        }
        if (list.Count == 0) index.Remove(watched);
    }

    /// <summary>A fan-out smaller than this wakes its watches in one work item.</summary>
    private const int WakeChunk = 128;

    /// <summary>
    /// The watches one delivery wakes: whole lists and single watches, each with its event. They are completed off the
    /// delivering thread, in one work item per core for a large fan-out, so the inline handlers (each starts a send)
    /// use every core and hold up no grain turn.
    /// </summary>
    private sealed class Woken
    {
        private readonly List<(KeyWatchList? List, KeyWatch? Watch, KeyWatchEvent Event)> _parts = [];
        private int _count;

        public void Add(KeyWatchList list, KeyWatchEvent e)
        {
            _parts.Add((list, null, e));
            _count += list.Count;
        }

        public void Add(KeyWatch watch, KeyWatchEvent e)
        {
            _parts.Add((null, watch, e));
            _count++;
        }

        public void Wake(KeyWatchHub hub)
        {
            var chunks = Math.Clamp(_count / WakeChunk, 1, Environment.ProcessorCount);
            for (var c = 0; c < chunks; c++)
                ThreadPool.UnsafeQueueUserWorkItem(static state => state.Woken.Run(state.Hub, state.From, state.To),
                    (Woken: this, Hub: hub, From: (long)_count * c / chunks, To: (long)_count * (c + 1) / chunks), preferLocal: false);
        }

        /// <summary>Completes the watches from position <paramref name="from"/> to <paramref name="to"/> of the parts laid end to end.</summary>
        private void Run(KeyWatchHub hub, long from, long to)
        {
            long start = 0;
            foreach (var (list, single, e) in _parts)
            {
                var size = list?.Count ?? 1;
                var first = Math.Max(from, start);
                var last = Math.Min(to, start + size);
                for (var i = first; i < last; i++) Complete(hub, list is null ? single! : list[(int)(i - start)], e);
                start += size;
                if (start >= to) return;
            }
        }

        private static void Complete(KeyWatchHub hub, KeyWatch watch, KeyWatchEvent e)
        {
            try
            {
                watch.Complete(e);
            }
            catch (Exception failure)
            {
                hub._logger.LogError(failure, "watch hub: a watch's completion handler failed");
            }
        }
    }

    private void RequestCatchUp()
    {
        if (Interlocked.Exchange(ref _catchUpRequested, 1) == 0) _ = CatchUpOnceAsync();
    }

    private async Task CatchUpOnceAsync()
    {
        try
        {
            await CatchUpAsync();
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            _logger.LogWarning(e, "watch hub: catching up with the keyspace failed; retrying at the next renewal");
        }
    }

    /// <summary>Renews the subscription every second, catching up with anything missed (also after the grain moved).</summary>
    private async Task RenewLoop(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CatchUpAsync();
                _ready.TrySetResult();
                delay = TimeSpan.FromSeconds(1);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                _logger.LogWarning("watch hub: keyspace not reachable ({Error}); retrying", e.Message);
                delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(delay, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task CatchUpAsync()
    {
        Volatile.Write(ref _catchUpRequested, 0);
        var after = LastIndex;
        var answer = await Keyspace.Subscribe(_self!, after);
        Term = answer.Term;
        if (!answer.Cleared && answer.DurableIndex >= after)
        {
            Deliver(answer.Events);
            return;
        }
        // The hub missed events the grain no longer has (or the keyspace went back): start over at its index.
        _logger.LogWarning("watch hub: events after {After} are no longer in the keyspace history (now at {Index}); open watches are closed so their clients watch again", after, answer.DurableIndex);
        List<TaskCompletionSource>? seen = null;
        lock (_lock)
        {
            _recent = new EventHistory(_options.HistoryCapacity);
            _lastIndex = answer.DurableIndex;
            TakeSeen(ref seen);
        }
        CloseAll();
        if (seen is not null)
            foreach (var s in seen) s.TrySetResult();
    }

    private void CloseAll()
    {
        List<KeyWatch> closing = [];
        lock (_lock)
        {
            foreach (var index in (ReadOnlySpan<Dictionary<string, KeyWatchList>>)[_exact, _recursive])
            {
                foreach (var list in index.Values)
                {
                    list.Detached = true;
                    for (var i = 0; i < list.Count; i++) closing.Add(list[i]);
                }
                index.Clear();
            }
            _watchCount = 0;
        }
        foreach (var watch in closing) watch.Complete(null);
    }
}

/// <summary>
/// The watches waiting on one key (or, recursive, one directory) in a hub: an array with swap-remove, so a watch
/// leaves in O(1) and a fan-out can take the whole list at once (<see cref="Detached"/>) and split it by position.
/// Used under the hub's lock, except that a detached list is only read.
/// </summary>
internal sealed class KeyWatchList
{
    private readonly List<KeyWatch> _watches = [];
    private ulong _maxMinIndex;
    private int _filtered, _hidden;

    /// <summary>Taken out of the hub whole: every watch in it is woken, and none leaves it any more.</summary>
    public volatile bool Detached;

    public int Count => _watches.Count;

    public KeyWatch this[int i] => _watches[i];

    public void Add(KeyWatch watch)
    {
        watch.List = this;
        watch.Slot = _watches.Count;
        _watches.Add(watch);
        _maxMinIndex = Math.Max(_maxMinIndex, watch.MinIndex);
        if (watch.Filter is not null) _filtered++;
        if (watch.IncludeHidden) _hidden++;
    }

    public void Remove(KeyWatch watch)
    {
        var last = _watches[^1];
        _watches[watch.Slot] = last;
        last.Slot = watch.Slot;
        _watches.RemoveAt(_watches.Count - 1);
        watch.List = null;
        if (watch.Filter is not null) _filtered--;
        if (watch.IncludeHidden) _hidden--;
        if (_watches.Count == 0) _maxMinIndex = 0;
    }

    /// <summary>
    /// Whether <paramref name="e"/> matches every watch here or none (no filters, one hidden-key setting, and every
    /// watch waits for an index at or before it); the largest wait index is kept high after removals, so this may
    /// say no when it could say yes, never the reverse.
    /// </summary>
    public bool AllAlike(KeyEvent e) => _filtered == 0 && (_hidden == 0 || _hidden == _watches.Count) && _maxMinIndex <= e.Index;
}
