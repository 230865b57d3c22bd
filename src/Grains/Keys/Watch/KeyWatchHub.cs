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
public sealed partial class KeyWatchHub : IKeyspaceObserver, IHostedService, IDisposable
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
    private long _seenTimeouts;
    private TaskCompletionSource<ulong>? _readWaiting;
    private bool _reading;
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

    /// <summary>How often a request the keyspace refused before storing anything is sent again, and the pause before each.</summary>
    private static readonly TimeSpan[] NotAppliedRetries = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500)];

    /// <summary>
    /// Runs <paramref name="request"/> on the keyspace. An answer that says nothing was stored (an activation fenced by
    /// a newer one while silos joined, rebuilt from the journal on its next call) is not the client's business: the
    /// request is sent again, a few times over about a second, before that answer goes out.
    /// </summary>
    public async Task<KeyResult> ExecuteAsync(KeyRequest request)
    {
        var result = await Keyspace.Execute(request);
        foreach (var pause in NotAppliedRetries)
        {
            if (!result.NotApplied) return result;
            await Task.Delay(pause);
            result = await Keyspace.Execute(request);
        }
        if (result.NotApplied) LogNotApplied(_logger, request.Op, request.Key, NotAppliedRetries.Length + 1, result.ErrorCause);
        return result;
    }

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
        // Off the host's start: the silo's start never waits on the keyspace, wherever it lives.
        _renewing = Task.Run(() => RenewLoop(_stopping.Token));
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

    /// <summary>How long a write's reply waits for the hub to have seen the write before it goes out anyway.</summary>
    public static readonly TimeSpan SeenWait = TimeSpan.FromSeconds(1);

    /// <summary>Write replies that went out after <see cref="SeenWait"/> without this hub having seen their write.</summary>
    public long SeenTimeouts => Interlocked.Read(ref _seenTimeouts);

    /// <summary>
    /// Completes once this hub has seen <paramref name="index"/>, or after <see cref="SeenWait"/> (logged and counted
    /// in <see cref="SeenTimeouts"/>): a watch the same client makes next on this silo never wakes for its own write.
    /// Facades call it after every write before they answer.
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
        return WaitBounded(seen.Task, index, cancellationToken);
    }

    private async Task WaitBounded(Task seen, ulong index, CancellationToken cancellationToken)
    {
        try
        {
            await seen.WaitAsync(SeenWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The reply goes out anyway (the write is durable); a watch made next without waitIndex still starts
            // after it, by its read index, but one with a waitIndex at or before it would see it.
            Interlocked.Increment(ref _seenTimeouts);
            LogWriteNotSeen(_logger, index, SeenWait, LastIndex);
        }
    }

    /// <summary>Moves the write waiters this hub has now seen into <paramref name="seen"/>. Under the lock.</summary>
    private void TakeSeen(ref List<TaskCompletionSource>? seen)
    {
        while (_seen.TryPeek(out _, out var index) && index <= _lastIndex) (seen ??= []).Add(_seen.Dequeue());
    }
}
