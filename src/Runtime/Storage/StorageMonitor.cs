using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Platform.Runtime.Storage;

/// <summary>
/// Whether this silo's storage dependencies (a PostgreSQL server, a SQLite file) answer, as the providers see it.
/// Logs one warning when one becomes unreachable, a summary every <see cref="StorageMonitorOptions.SummaryInterval"/>
/// while it stays so, and one line when it is back with the time it was out (docs/runtime.md, "Storage outages").
/// </summary>
public sealed partial class StorageMonitor : IDisposable
{
    private readonly ConcurrentDictionary<string, StorageDependency> _dependencies = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private long _recoveries;
    private long _refusedCalls;

    /// <summary>Creates a monitor; the container makes the silo's one.</summary>
    public StorageMonitor(ILogger<StorageMonitor>? logger = null, IOptions<StorageMonitorOptions>? options = null, TimeProvider? time = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Options = options?.Value ?? new StorageMonitorOptions();
        Options.Validate();
        Time = time ?? TimeProvider.System;
    }

    internal StorageMonitorOptions Options { get; }

    internal TimeProvider Time { get; }

    /// <summary>True when every dependency answered at its last use.</summary>
    public bool IsReachable
    {
        get
        {
            foreach (var d in _dependencies.Values)
                if (!d.IsReachable) return false;
            return true;
        }
    }

    /// <summary>How many times a dependency came back; grains backing off try again at once when it changes.</summary>
    public long Recoveries => Volatile.Read(ref _recoveries);

    /// <summary>The dependencies seen so far.</summary>
    public IReadOnlyCollection<StorageDependency> Dependencies => [.. _dependencies.Values];

    /// <summary>
    /// The dependency named <paramref name="name"/> (how logs name it: server or file), created on first use;
    /// <paramref name="probe"/> (one cheap statement) checks while it is unreachable whether it is back.
    /// </summary>
    public StorageDependency Get(string name, Func<CancellationToken, Task>? probe = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var dependency = _dependencies.GetOrAdd(name, static (n, m) => new StorageDependency(m, n), this);
        if (probe is not null) dependency.SetProbe(probe);
        return dependency;
    }

    /// <summary>Counts a call refused without touching storage (its grain is backing off), for the next summary.</summary>
    public void CountRefusedCall() => Interlocked.Increment(ref _refusedCalls);

    internal long TakeRefusedCalls() => Interlocked.Exchange(ref _refusedCalls, 0);

    internal void OnUnreachable(StorageDependency dependency, StorageUnavailableException error)
    {
        LogUnreachable(dependency.Name, error.Detail);
        // The stack once per outage, and only where asked for.
        LogUnreachableError(dependency.Name, error);
    }

    internal void OnStillUnreachable(StorageDependency dependency, TimeSpan down, long failed, long refused, TimeSpan window) =>
        LogStillUnreachable(dependency.Name, Math.Round(down.TotalSeconds), failed, refused, Math.Round(window.TotalSeconds));

    internal void OnBack() => Interlocked.Increment(ref _recoveries);

    internal void OnRecovered(StorageDependency dependency, TimeSpan down, long failed)
    {
        TakeRefusedCalls();
        LogRecovered(dependency.Name, Math.Round(down.TotalSeconds, 1), failed);
    }

    internal void OnProbeFailed(StorageDependency dependency, Exception error) => LogProbeFailed(dependency.Name, error);

    /// <summary>Stops the timers of unreachable dependencies.</summary>
    public void Dispose()
    {
        foreach (var d in _dependencies.Values) d.Dispose();
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Storage unreachable: {Dependency}: {Detail}. Calls that need it fail with \"storage unavailable, retry later\" until it is back")]
    private partial void LogUnreachable(string dependency, string detail);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Debug, Message = "Storage unreachable: {Dependency}: first error")]
    private partial void LogUnreachableError(string dependency, Exception error);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "Storage still unreachable after {DownSeconds} s: {Dependency}: {Failed} storage operations failed and {Refused} calls were refused in the last {WindowSeconds} s")]
    private partial void LogStillUnreachable(string dependency, double downSeconds, long failed, long refused, double windowSeconds);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information, Message = "Storage reachable again after {DownSeconds} s out: {Dependency} ({Failed} storage operations failed meanwhile)")]
    private partial void LogRecovered(string dependency, double downSeconds, long failed);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Debug, Message = "Storage probe failed: {Dependency}")]
    private partial void LogProbeFailed(string dependency, Exception error);
}
