using System.Diagnostics;
using System.Numerics;

namespace Platform.Runtime.Statistics;

/// <summary>
/// Lock-free counters for one grain method: calls and failures in per-core stripes (so two cores calling
/// the same method don't fight over one cache line), and a latency histogram with four buckets per power
/// of two of nanoseconds (percentiles within about 19%). The cheapest calls are timed one in
/// <see cref="SampleEvery"/> (<see cref="SampleNext"/>): reading the clock twice would cost as much as the call.
/// </summary>
public sealed class MethodStatistics
{
    /// <summary>One call in this many is timed on the synchronous inline path.</summary>
    public const int SampleEvery = 16;

    private const int SubBuckets = 4;
    private const int BucketCount = 64 * SubBuckets;
    private const int Stripes = 16;
    private const int StripeStride = 8; // 64-byte cache lines
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    [ThreadStatic] private static uint t_sample;

    private readonly long[] _calls = new long[Stripes * StripeStride];
    private readonly long[] _failures = new long[Stripes * StripeStride];
    private long _timed;
    private long _totalNanos;
    private readonly long[] _buckets = new long[BucketCount];

    public long Calls => Sum(_calls);
    public long Failures => Sum(_failures);

    /// <summary>True for the calls the inline path should time (one in <see cref="SampleEvery"/> per thread).</summary>
    public static bool SampleNext() => (++t_sample & (SampleEvery - 1)) == 0;

    /// <summary>Counts one finished call without timing it.</summary>
    public void Count(bool failed)
    {
        var stripe = (Thread.GetCurrentProcessorId() & (Stripes - 1)) * StripeStride;
        Interlocked.Increment(ref _calls[stripe]);
        if (failed) Interlocked.Increment(ref _failures[stripe]);
    }

    /// <summary>Records one finished call that took <paramref name="elapsedTicks"/> Stopwatch ticks.</summary>
    public void Record(long elapsedTicks, bool failed)
    {
        Count(failed);
        var nanos = (long)(elapsedTicks * NanosPerTick);
        Interlocked.Increment(ref _timed);
        Interlocked.Add(ref _totalNanos, nanos);
        Interlocked.Increment(ref _buckets[BucketOf(nanos)]);
    }

    private static long Sum(long[] stripes)
    {
        long total = 0;
        for (var i = 0; i < stripes.Length; i += StripeStride) total += Volatile.Read(ref stripes[i]);
        return total;
    }

    private static int BucketOf(long nanos)
    {
        if (nanos < 1) return 0;
        var log = BitOperations.Log2((ulong)nanos);
        // The two bits below the leading one pick the sub-bucket.
        var sub = log >= 2 ? (int)((nanos >> (log - 2)) & 3) : 0;
        return Math.Min(BucketCount - 1, log * SubBuckets + sub);
    }

    private static double UpperBoundNanos(int bucket)
    {
        var log = bucket / SubBuckets;
        var sub = bucket % SubBuckets;
        return Math.Pow(2, log) * (1 + (sub + 1) / 4.0);
    }

    /// <summary>A consistent-enough copy of the counters, with latency percentiles in microseconds.</summary>
    public MethodStatisticsSnapshot Snapshot(string grainType, string interfaceName, string method)
    {
        var calls = Calls;
        var counts = new long[BucketCount];
        long total = 0;
        for (var i = 0; i < BucketCount; i++) total += counts[i] = Volatile.Read(ref _buckets[i]);
        return new MethodStatisticsSnapshot(grainType, interfaceName, method, calls, Failures,
            Volatile.Read(ref _timed) is var timed && timed == 0 ? 0 : Volatile.Read(ref _totalNanos) / 1000.0 / timed,
            Percentile(counts, total, 0.50), Percentile(counts, total, 0.99));
    }

    private static double Percentile(long[] counts, long total, double q)
    {
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(total * q);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return Math.Round(UpperBoundNanos(i) / 1000.0, 3);
        }
        return 0;
    }
}

/// <summary>Counters of one grain type's method at one moment.</summary>
public sealed record MethodStatisticsSnapshot(string GrainType, string Interface, string Method, long Calls, long Failures, double MeanMicros, double P50Micros, double P99Micros);

/// <summary>One grain type on this silo: live activations, activations started and failed so far, and its methods' counters.</summary>
public sealed record GrainTypeStatisticsSnapshot(string GrainType, string ClassName, long Activations, long ActivationAttempts, long ActivationFailures, IReadOnlyList<MethodStatisticsSnapshot> Methods);
