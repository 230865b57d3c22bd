namespace Platform.Runtime.Storage;

/// <summary>
/// One storage dependency as its providers see it: reachable until an operation fails with
/// <see cref="StorageUnavailableException"/>, reachable again once an operation (or the probe) succeeds.
/// Reports are cheap while nothing changes: one volatile read.
/// </summary>
public sealed class StorageDependency : IDisposable
{
    private const int Up = 0, Down = 1, Settling = 2;

    private readonly StorageMonitor _monitor;
    private readonly Lock _gate = new();
    private Func<CancellationToken, Task>? _probe;
    private volatile int _state;
    private long _downSince;
    private long _backSince;
    private long _lastSummary;
    private long _failedInWindow;
    private long _failedTotal;
    private ITimer? _timer;
    private int _probing;

    internal StorageDependency(StorageMonitor monitor, string name)
    {
        _monitor = monitor;
        Name = name;
    }

    /// <summary>The server or file, as logs name it; never a password.</summary>
    public string Name { get; }

    /// <summary>False from a failure until the next success.</summary>
    public bool IsReachable => _state != Down;

    /// <summary>When it became unreachable; null while reachable.</summary>
    public DateTimeOffset? UnreachableSince
    {
        get
        {
            lock (_gate) return _state == Down ? _monitor.Time.GetUtcNow() - _monitor.Time.GetElapsedTime(_downSince) : null;
        }
    }

    internal void SetProbe(Func<CancellationToken, Task> probe) => Interlocked.CompareExchange(ref _probe, probe, null);

    /// <summary>
    /// An operation on it succeeded (a commit, a read): when it was unreachable, it is back, and grains backing off may
    /// try again at once. The outage is logged as over once no failure followed for a probe interval: a full disk may
    /// take one small write and refuse the next, and that is one outage, not many.
    /// </summary>
    public void ReportSuccess()
    {
        if (_state != Down) return;
        lock (_gate)
        {
            if (_state != Down) return;
            _state = Settling;
            _backSince = _monitor.Time.GetTimestamp();
        }
        _monitor.OnBack();
    }

    /// <summary>An operation on it failed because it could not be reached or would not write.</summary>
    public void ReportFailure(StorageUnavailableException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Interlocked.Increment(ref _failedInWindow);
        if (_state == Down) return;
        lock (_gate)
        {
            if (_state == Down) return;
            var wasUp = _state == Up;
            _state = Down;
            if (!wasUp) return;
            _downSince = _lastSummary = _monitor.Time.GetTimestamp();
            _failedTotal = 0;
            var interval = _monitor.Options.ProbeInterval;
            _timer = _monitor.Time.CreateTimer(static s => ((StorageDependency)s!).Tick(), this, interval, interval);
        }
        _monitor.OnUnreachable(this, error);
    }

    /// <summary>Every probe interval until the outage is over: the summary when one is due, a probe, or the end.</summary>
    private void Tick()
    {
        long failed = -1;
        TimeSpan down = default, window = default;
        lock (_gate)
        {
            if (_state == Up) return;
            if (_state == Settling)
            {
                if (_monitor.Time.GetElapsedTime(_backSince) < _monitor.Options.ProbeInterval) return;
                _state = Up;
                _timer?.Dispose();
                _timer = null;
                down = _monitor.Time.GetElapsedTime(_downSince, _backSince);
                failed = _failedTotal + Interlocked.Exchange(ref _failedInWindow, 0);
            }
            else
            {
                window = _monitor.Time.GetElapsedTime(_lastSummary);
                if (window >= _monitor.Options.SummaryInterval)
                {
                    _lastSummary = _monitor.Time.GetTimestamp();
                    failed = Interlocked.Exchange(ref _failedInWindow, 0);
                    _failedTotal += failed;
                    down = _monitor.Time.GetElapsedTime(_downSince);
                }
            }
        }
        if (_state == Up)
        {
            _monitor.OnRecovered(this, down, failed);
            return;
        }
        if (failed >= 0) _monitor.OnStillUnreachable(this, down, failed, _monitor.TakeRefusedCalls(), window);
        if (Volatile.Read(ref _probe) is { } probe && Interlocked.Exchange(ref _probing, 1) == 0) _ = ProbeAsync(probe);
    }

    private async Task ProbeAsync(Func<CancellationToken, Task> probe)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_monitor.Options.ProbeInterval * 5, _monitor.Time);
            await probe(timeout.Token).ConfigureAwait(false);
            ReportSuccess();
        }
        catch (Exception e)
        {
            // Expected while it is out; the failure is counted by whoever wrapped it, the stack only at debug level.
            _monitor.OnProbeFailed(this, e);
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    /// <summary>Stops the timer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}
