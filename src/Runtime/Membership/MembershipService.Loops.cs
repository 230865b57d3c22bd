namespace Platform.Runtime.Membership;

/// <summary>The background loops: I-am-alive, view refresh, probing and cleanup, all stopped by one token.</summary>
public sealed partial class MembershipService
{
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromMinutes(1);

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    // When a table operation of this silo last failed (UTC ticks). After an outage every peer's I-am-alive in the
    // table is old; peers need a staleness window of working table access to write a fresh one before it counts.
    private long _lastTableFailureTicks;

    /// <summary>Completes once every loop has ended: after a stop, or once this silo read itself Dead.</summary>
    internal Task LoopsEnded
    {
        get
        {
            lock (_loops) return Task.WhenAll(_loops);
        }
    }

    /// <summary>Stops the loops as a killed process would: no Dead row is written, peers must detect the absence.</summary>
    internal void KillForTesting() => _stopping.Cancel();

    private void StartLoops()
    {
        var stopping = _stopping.Token;
        Volatile.Write(ref _lastTableFailureTicks, _time.GetUtcNow().UtcTicks);
        lock (_loops)
        {
            _loops.Add(RunLoopAsync("writing I-am-alive", _options.IAmAliveInterval, WriteIAmAliveAsync, tickAtStart: false, stopping));
            _loops.Add(RunLoopAsync("refreshing the view", _options.TableRefreshInterval, RefreshAsync, tickAtStart: false, stopping));
            _loops.Add(RunLoopAsync("probing peers", _options.ProbeInterval, ProbeRoundAsync, tickAtStart: false, stopping));
            _loops.Add(RunLostPeersLoopAsync(stopping));
            _loops.Add(RunLoopAsync("cleaning up defunct rows", CleanupInterval, CleanUpAsync, tickAtStart: true, stopping));
        }
    }

    private async Task StopLoopsAsync()
    {
        _stopping.Cancel();
        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private Task RunLoopAsync(string operation, TimeSpan period, Func<CancellationToken, Task> tick, bool tickAtStart, CancellationToken stopping) =>
        Task.Run(async () =>
        {
            var failures = 0;
            using var timer = new PeriodicTimer(period, _time);
            try
            {
                if (tickAtStart)
                {
                    failures = await TickAsync(operation, tick, failures, stopping).ConfigureAwait(false);
                }

                while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                {
                    failures = await TickAsync(operation, tick, failures, stopping).ConfigureAwait(false);
                }
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                // Stopping: a tick cancelled or failing on the way out (the table unreachable, say) changes nothing.
            }
        }, CancellationToken.None);

    /// <summary>Runs one tick; a failure (the table unreachable, most often) keeps the last view and is retried next tick.</summary>
    private async Task<int> TickAsync(string operation, Func<CancellationToken, Task> tick, int failures, CancellationToken stopping)
    {
        try
        {
            await tick(stopping).ConfigureAwait(false);
            if (failures > 0)
            {
                LogLoopRecovered(operation, failures);
            }

            return 0;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            failures++;
            Volatile.Write(ref _lastTableFailureTicks, _time.GetUtcNow().UtcTicks);

            // The first failure and then every tenth: an outage stays visible without a warning per tick.
            if (failures == 1 || failures % 10 == 0)
            {
                // Storage being out is logged once by the storage monitor, with its stack; here a line is enough.
                if (e is StorageUnavailableException unavailable) LogLoopFailedForStorage(operation, failures, CurrentView.Version, unavailable.Detail);
                else LogLoopFailed(operation, failures, CurrentView.Version, e);
            }

            return failures;
        }
    }

    private Task WriteIAmAliveAsync(CancellationToken cancellationToken) =>
        _table.UpdateIAmAliveAsync(Self, _time.GetUtcNow(), cancellationToken);

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var snapshot = await _table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        var view = ToView(snapshot);
        Volatile.Write(ref _lastRead, view.Members);
        Volatile.Write(ref _lastReadVersion, view.Version);
        await PublishAsync(view).ConfigureAwait(false);
    }

    private async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        var removed = await _table.CleanupDefunctEntriesAsync(_time.GetUtcNow() - _options.DefunctSiloExpiration, cancellationToken).ConfigureAwait(false);
        if (removed > 0)
        {
            LogCleanedUp(removed, _options.DefunctSiloExpiration);
        }
    }
}
