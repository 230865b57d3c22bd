using Microsoft.Extensions.Logging;

namespace Platform.Runtime.Membership;

/// <summary>
/// One silo's membership (Orleans' MembershipTableManager, ClusterHealthMonitor and MembershipAgent in one):
/// writes this silo's row through its lifecycle, heartbeats, refreshes the view, probes peers and votes on deaths.
/// It never opens sockets: probes go through <see cref="ISiloProber"/>.
/// </summary>
public sealed partial class MembershipService : IClusterMembership, IAsyncDisposable
{
    // Conflicts come from other silos writing at the same moment and clear within a few re-reads; this many means something is wrong.
    private const int MaxWriteAttempts = 20;

    private readonly IMembershipTable _table;
    private readonly ISiloProber _prober;
    private readonly MembershipOptions _options;

    /// <summary>The settings this service runs with.</summary>
    public MembershipOptions Options => _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _siloName;
    private readonly string? _httpUrl;

    // Serializes publishing so views are installed and announced one at a time, in version order.
    private readonly SemaphoreSlim _viewGate = new(1, 1);
    private ClusterView _view = ClusterView.Empty;
    private readonly MembershipHistory _history = new();

    private int _started;
    private volatile bool _joined;
    private volatile bool _leaving;
    private int _declaredDead;

    /// <summary>Creates the service; nothing is read or written before <see cref="StartAsync"/>.</summary>
    public MembershipService(
        IMembershipTable table,
        ISiloProber prober,
        SiloAddress self,
        string siloName,
        string? httpUrl,
        MembershipOptions options,
        ILogger logger,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(prober);
        ArgumentNullException.ThrowIfNull(siloName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        Validate(options);
        _table = table;
        _prober = prober;
        Self = self;
        _siloName = siloName;
        _httpUrl = httpUrl;
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public SiloAddress Self { get; }

    /// <inheritdoc />
    public ClusterView CurrentView => Volatile.Read(ref _view);

    /// <summary>The membership table's recent changes as this silo saw them, newest first (<see cref="MembershipHistory"/>).</summary>
    public IReadOnlyList<MembershipChange> History => _history.Newest();

    private IReadOnlyList<MembershipEntry>? _lastRead;

    /// <summary>
    /// Every row as last read, any status (what <c>GET /v1/cluster</c> shows): unlike the view, which changes only
    /// with the table version, this carries the latest I-am-alive times.
    /// </summary>
    public IReadOnlyList<MembershipEntry> Members => Volatile.Read(ref _lastRead) is { } read && Volatile.Read(ref _lastReadVersion) >= CurrentView.Version ? read : CurrentView.Members;

    private int _lastReadVersion = -1;

    /// <summary>True once this silo read its own row as Dead (or gone); its loops have stopped.</summary>
    public bool IsDeclaredDead => Volatile.Read(ref _declaredDead) != 0;

    /// <inheritdoc />
    public event Action<ClusterView>? ViewChanged;

    /// <summary>
    /// Raised once, on the thread pool, when this silo reads itself declared Dead by the cluster; its loops have
    /// already stopped and the host should terminate. Not raised by a graceful <see cref="StopAsync"/>.
    /// </summary>
    public event Action? SelfDeclaredDead;

    /// <summary>Raised after this silo changed the table (its own status, a suspicion, a death), so peers can be told to read it now.</summary>
    public event Action? TableWritten;

    /// <summary>Reads the table now instead of at the next refresh tick (a peer said it changed).</summary>
    public Task RefreshNowAsync(CancellationToken cancellationToken = default) => RefreshAsync(cancellationToken);

    /// <summary>
    /// Joins the cluster: creates the table if needed, marks older incarnations of this endpoint Dead, inserts
    /// this silo's row as Joining, publishes the view and starts the heartbeat, refresh, probe and cleanup loops.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Membership of silo {Self} was already started; a service starts once.");
        }

        await _table.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await MarkOlderIncarnationsDeadAsync(cancellationToken).ConfigureAwait(false);

        var now = _time.GetUtcNow();
        var joining = new MembershipEntry(Self, _siloName, SiloStatus.Joining, _httpUrl, now, now, []);
        await WriteAsync("inserting this silo's row", snapshot =>
        {
            if (Find(snapshot, Self) is { } existing)
            {
                throw new InvalidOperationException(
                    $"Membership table of cluster '{_options.ClusterId}' already has a row for silo {Self} (status {existing.Entry.Status}); " +
                    "an address is used by one incarnation only: restart with a new generation.");
            }

            return new TableWrite(joining, null);
        }, cancellationToken).ConfigureAwait(false);
        _joined = true;
        LogJoined(_options.ClusterId, Self, CurrentView.Version);

        StartLoops();
    }

    /// <summary>Moves this silo's row to Active; the runtime calls it once its transport listens.</summary>
    public Task BecomeActiveAsync(CancellationToken cancellationToken = default) =>
        ChangeOwnStatusAsync(SiloStatus.Active, cancellationToken);

    /// <summary>Moves this silo's row to ShuttingDown: it stops owning grains while it hands them off.</summary>
    public Task ShutDownAsync(CancellationToken cancellationToken) =>
        ChangeOwnStatusAsync(SiloStatus.ShuttingDown, cancellationToken);

    /// <summary>Graceful leave: stops the loops and marks this silo's row Dead, so peers need not detect its absence.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Set first: reading our own Dead row from here on is the leave we asked for, not an eviction.
        _leaving = true;
        await StopLoopsAsync().ConfigureAwait(false);
        if (!_joined || IsDeclaredDead)
        {
            return;
        }

        await ChangeOwnStatusAsync(SiloStatus.Dead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the loops without writing anything (the row stays as it is until peers declare it Dead).</summary>
    public ValueTask DisposeAsync() => new(StopLoopsAsync());

    private async Task MarkOlderIncarnationsDeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var marked = await WriteAsync("marking an older incarnation of this endpoint Dead", snapshot =>
            {
                foreach (var (entry, etag) in snapshot.Rows)
                {
                    var silo = entry.Silo;
                    if (silo.Host == Self.Host && silo.Port == Self.Port && silo.Generation < Self.Generation && entry.Status != SiloStatus.Dead)
                    {
                        return new TableWrite(entry with { Status = SiloStatus.Dead }, etag);
                    }
                }

                return null;
            }, cancellationToken).ConfigureAwait(false);
            if (marked is null)
            {
                return;
            }

            LogOlderIncarnationDead(marked.Silo, Self);
        }
    }

    private async Task ChangeOwnStatusAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        if (!_joined)
        {
            throw new InvalidOperationException($"Silo {Self} cannot become {status}: its membership is not started (call StartAsync first).");
        }

        var written = await WriteAsync($"setting this silo's row to {status}", snapshot =>
        {
            var own = Find(snapshot, Self) ?? throw new InvalidOperationException(
                $"Membership table of cluster '{_options.ClusterId}' has no row for silo {Self}: it was declared Dead and cleaned up.");
            if (own.Entry.Status == SiloStatus.Dead && status != SiloStatus.Dead)
            {
                throw new InvalidOperationException(
                    $"Silo {Self} is Dead in cluster '{_options.ClusterId}' (declared Dead by its peers, or stopped) and cannot become {status}; " +
                    "restart it to rejoin as a new generation.");
            }

            // Statuses only move forward (Joining → Active → ShuttingDown → Dead).
            if (own.Entry.Status >= status)
            {
                return null;
            }

            return new TableWrite(own.Entry with { Status = status, IAmAliveTime = _time.GetUtcNow() }, own.ETag);
        }, cancellationToken).ConfigureAwait(false);
        if (written is not null)
        {
            LogOwnStatus(Self, status, CurrentView.Version);
        }
    }

    /// <summary>
    /// Read, decide, compare-and-swap; on a conflict, read again and decide again. Returns the entry written,
    /// or null when <paramref name="decide"/> found nothing to do.
    /// </summary>
    private async Task<MembershipEntry?> WriteAsync(string operation, Func<MembershipTableSnapshot, TableWrite?> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = await _table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            await PublishAsync(ToView(snapshot)).ConfigureAwait(false);
            if (decide(snapshot) is not { } write)
            {
                return null;
            }

            var next = snapshot.Version.Next();
            var written = write.ETag is null
                ? await _table.InsertRowAsync(write.Entry, next, cancellationToken).ConfigureAwait(false)
                : await _table.UpdateRowAsync(write.Entry, write.ETag, next, cancellationToken).ConfigureAwait(false);
            if (written)
            {
                // The CAS proves the table at the new version is exactly what we read plus our row.
                await PublishAsync(new ClusterView(next.Version, WithRow(snapshot, write.Entry))).ConfigureAwait(false);
                TableWritten?.Invoke();
                return write.Entry;
            }

            if (attempt == MaxWriteAttempts)
            {
                throw new InvalidOperationException(
                    $"Membership table of cluster '{_options.ClusterId}': {operation} for silo {Self} conflicted {attempt} times in a row (the table version kept moving).");
            }

            // Jitter, so silos racing for the same version don't collide again in lockstep.
            var backoff = TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * Math.Min(attempt, 10)));
            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Installs <paramref name="view"/> if it is newer than the current one and announces it; one view at a time.</summary>
    private async Task PublishAsync(ClusterView view)
    {
        await _viewGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (view.Version <= _view.Version)
            {
                return;
            }

            _history.Observe(_view, view, _time.GetUtcNow());
            Volatile.Write(ref _view, view);
            LogViewChanged(view.Version, view.ActiveSilos.Count, view.Members.Count);
            var handlers = ViewChanged;
            if (handlers is not null)
            {
                foreach (var handler in handlers.GetInvocationList())
                {
                    try
                    {
                        ((Action<ClusterView>)handler)(view);
                    }
                    catch (Exception e)
                    {
                        LogViewHandlerFailed(view.Version, e);
                    }
                }
            }

            var ownStatus = view.StatusOf(Self);
            if (_joined && !_leaving && ownStatus is SiloStatus.Dead or SiloStatus.None)
            {
                OnDeclaredDead(view, ownStatus);
            }
        }
        finally
        {
            _viewGate.Release();
        }
    }

    private void OnDeclaredDead(ClusterView view, SiloStatus ownStatus)
    {
        if (Interlocked.Exchange(ref _declaredDead, 1) != 0)
        {
            return;
        }

        LogDeclaredDead(Self, ownStatus == SiloStatus.Dead ? "its row is Dead" : "its row is gone", view.Version);

        // Stop at once: no more heartbeats, probes or votes from a silo the cluster has evicted.
        _stopping.Cancel();

        // On the thread pool: a handler that waits for this service to stop must not block the loop that found out.
        _ = Task.Run(() =>
        {
            try
            {
                SelfDeclaredDead?.Invoke();
            }
            catch (Exception e)
            {
                LogSelfDeclaredDeadHandlerFailed(e);
            }
        });
    }

    private static ClusterView ToView(MembershipTableSnapshot snapshot) =>
        new(snapshot.Version.Version, [.. snapshot.Rows.Select(r => r.Entry)]);

    private static MembershipEntry[] WithRow(MembershipTableSnapshot snapshot, MembershipEntry entry)
    {
        var rows = snapshot.Rows.Select(r => r.Entry.Silo == entry.Silo ? entry : r.Entry).ToList();
        if (!rows.Exists(r => r.Silo == entry.Silo))
        {
            rows.Add(entry);
        }

        return [.. rows];
    }

    private static (MembershipEntry Entry, string ETag)? Find(MembershipTableSnapshot snapshot, SiloAddress silo)
    {
        foreach (var row in snapshot.Rows)
        {
            if (row.Entry.Silo == silo)
            {
                return row;
            }
        }

        return null;
    }

    private static void Validate(MembershipOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.ClusterId, "MembershipOptions.ClusterId");
        RequirePositive(options.IAmAliveInterval, nameof(MembershipOptions.IAmAliveInterval));
        RequirePositive(options.TableRefreshInterval, nameof(MembershipOptions.TableRefreshInterval));
        RequirePositive(options.ProbeInterval, nameof(MembershipOptions.ProbeInterval));
        RequirePositive(options.ProbeTimeout, nameof(MembershipOptions.ProbeTimeout));
        RequirePositive(options.DeathVoteExpiration, nameof(MembershipOptions.DeathVoteExpiration));
        RequirePositive(options.IAmAliveStaleAfter, nameof(MembershipOptions.IAmAliveStaleAfter));
        RequirePositive(options.DefunctSiloExpiration, nameof(MembershipOptions.DefunctSiloExpiration));
        RequireAtLeastOne(options.MissedProbesLimit, nameof(MembershipOptions.MissedProbesLimit));
        RequireAtLeastOne(options.VotesForDeathDeclaration, nameof(MembershipOptions.VotesForDeathDeclaration));
        if (options.ProbedSilos < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MembershipOptions.ProbedSilos must be 0 or more; it is {options.ProbedSilos}.");
        }

        static void RequirePositive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"MembershipOptions.{name} must be positive; it is {value}.");
            }
        }

        static void RequireAtLeastOne(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"MembershipOptions.{name} must be at least 1; it is {value}.");
            }
        }
    }

    /// <summary>A row to write: an insert when <see cref="ETag"/> is null, else an update guarded by it.</summary>
    private sealed record TableWrite(MembershipEntry Entry, string? ETag);
}
