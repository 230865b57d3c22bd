using System.Collections.Concurrent;
using System.Globalization;
using Platform.Runtime.Hosting;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Catalog;

/// <summary>
/// Grains whose activation failed because storage was unavailable. Until a growing back-off has passed (doubling per
/// failure from <see cref="SiloOptions.ActivationBackoffMinimum"/> up to <see cref="SiloOptions.ActivationBackoffMaximum"/>,
/// ±20% jitter), calls that would activate such a grain fail at once instead of each trying storage again. The first
/// call after it, or after the <see cref="StorageMonitor"/> saw storage come back, activates the grain; calls arriving
/// meanwhile queue on that one activation, so one caller at a time tries.
/// </summary>
internal sealed class ActivationBackoff(SiloOptions options, TimeProvider time, StorageMonitor? monitor)
{
    private const double Jitter = 0.2;

    private readonly ConcurrentDictionary<GrainId, Entry> _entries = new();
    private long _lastSweep;

    /// <summary>Grains backing off now or waiting for their next try.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// A refusal when a new activation of <paramref name="grainId"/> must not be tried yet; null when it may be (nothing
    /// failed, the back-off passed, or storage came back since).
    /// </summary>
    public StorageUnavailableException? Refusal(GrainId grainId)
    {
        if (_entries.IsEmpty || !_entries.TryGetValue(grainId, out var entry)) return null;
        TimeSpan left;
        int failures;
        string detail;
        lock (entry)
        {
            if (!entry.Open || entry.Recoveries != Recoveries) return null;
            left = time.GetElapsedTime(time.GetTimestamp(), entry.RetryAt);
            if (left <= TimeSpan.Zero) return null;
            failures = entry.Failures;
            detail = entry.Detail;
        }
        monitor?.CountRefusedCall();
        return new StorageUnavailableException(string.Create(CultureInfo.InvariantCulture,
            $"grain {grainId} is not activated again for {left.TotalMilliseconds:0} ms after {failures} failed activations: {detail}"), null);
    }

    /// <summary>An activation of <paramref name="grainId"/> failed for want of storage: the next try waits longer. Returns the wait.</summary>
    public TimeSpan OnFailed(GrainId grainId, StorageUnavailableException error)
    {
        var entry = _entries.GetOrAdd(grainId, static _ => new Entry());
        lock (entry)
        {
            // A grain that activated but failed again soon after (a full disk can take the activation's small write and
            // refuse the next) keeps growing its wait; one that stayed up a while starts from the minimum.
            if (!entry.Open && time.GetElapsedTime(entry.ActivatedAt) > options.ActivationBackoffMaximum * 2) entry.Failures = 0;
            entry.Open = true;
            entry.Failures++;
            var wait = Delay(entry.Failures, Random.Shared.NextDouble());
            entry.RetryAt = time.GetTimestamp() + (long)(wait.TotalSeconds * time.TimestampFrequency);
            entry.Recoveries = Recoveries;
            entry.Detail = error.Detail;
            return wait;
        }
    }

    /// <summary>
    /// An activation of <paramref name="grainId"/> succeeded: calls reach it, and its next failure starts from the minimum
    /// again once it stayed up for twice the maximum back-off.
    /// </summary>
    public void OnActivated(GrainId grainId)
    {
        if (_entries.IsEmpty || !_entries.TryGetValue(grainId, out var entry)) return;
        lock (entry)
        {
            entry.Open = false;
            entry.ActivatedAt = time.GetTimestamp();
        }
        Sweep();
    }

    /// <summary>Forgets grains that stayed up for twice the maximum back-off; at most once per maximum back-off.</summary>
    private void Sweep()
    {
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastSweep);
        if (time.GetElapsedTime(last, now) < options.ActivationBackoffMaximum || Interlocked.CompareExchange(ref _lastSweep, now, last) != last) return;
        foreach (var (id, entry) in _entries)
        {
            lock (entry)
            {
                if (entry.Open || time.GetElapsedTime(entry.ActivatedAt, now) <= options.ActivationBackoffMaximum * 2) continue;
            }
            _entries.TryRemove(new KeyValuePair<GrainId, Entry>(id, entry));
        }
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row; <paramref name="random"/> in [0, 1) picks the jitter.</summary>
    internal TimeSpan Delay(int failures, double random)
    {
        var minimum = options.ActivationBackoffMinimum.TotalMilliseconds;
        var maximum = options.ActivationBackoffMaximum.TotalMilliseconds;
        var nominal = Math.Min(maximum, minimum * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds(nominal * (1 - Jitter + 2 * Jitter * random));
    }

    private long Recoveries => monitor?.Recoveries ?? 0;

    private sealed class Entry
    {
        public bool Open;
        public long ActivatedAt;
        public int Failures;
        public long RetryAt;
        public long Recoveries;
        public string Detail = "";
    }
}
