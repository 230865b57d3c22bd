using System.Diagnostics;
using System.Numerics;

namespace Platform.Runtime.Statistics;

/// <summary>
/// Lock-free counters for one grain method, in per-core stripes so that two cores finishing calls of the same method
/// don't fight over one cache line: calls, failures, and a latency histogram with four buckets per power of two of
/// nanoseconds (percentiles within about 19%). The cheapest calls are timed one in <see cref="SampleEvery"/>
/// (<see cref="SampleNext"/>): reading the clock twice would cost as much as the call.
/// </summary>
public sealed class MethodStatistics
{
    /// <summary>One call in this many is timed on the synchronous inline path.</summary>
    public const int SampleEvery = 16;

    private const int SubBuckets = 4;
    private const int BucketCount = 64 * SubBuckets;

    // A stripe: calls, failures, timed calls, total nanoseconds, padding to a 64-byte line, then the histogram.
    private const int CallsAt = 0, FailuresAt = 1, TimedAt = 2, NanosAt = 3, BucketsAt = 8;
    private const int StripeLength = BucketsAt + BucketCount;

    /// <summary>One stripe per core, up to 16: each core's counters stay in its own cache lines.</summary>
    private static readonly int s_stripes = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount), 16);

    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    [ThreadStatic] private static uint t_sample;

    private readonly long[] _counters = new long[s_stripes * StripeLength];

    public long Calls => Sum(CallsAt);
    public long Failures => Sum(FailuresAt);

    /// <summary>True for the calls the inline path should time (one in <see cref="SampleEvery"/> per thread).</summary>
    public static bool SampleNext() => (++t_sample & (SampleEvery - 1)) == 0;

    private static int Stripe() => (Thread.GetCurrentProcessorId() & (s_stripes - 1)) * StripeLength;

    /// <summary>Counts one finished call without timing it.</summary>
    public void Count(bool failed) => Count(Stripe(), failed);

    private void Count(int stripe, bool failed)
    {
        Interlocked.Increment(ref _counters[stripe + CallsAt]);
        if (failed) Interlocked.Increment(ref _counters[stripe + FailuresAt]);
    }

    /// <summary>Records one finished call that took <paramref name="elapsedTicks"/> Stopwatch ticks.</summary>
    public void Record(long elapsedTicks, bool failed)
    {
        var stripe = Stripe();
        Count(stripe, failed);
        var nanos = (long)(elapsedTicks * NanosPerTick);
        Interlocked.Increment(ref _counters[stripe + TimedAt]);
        Interlocked.Add(ref _counters[stripe + NanosAt], nanos);
        Interlocked.Increment(ref _counters[stripe + BucketsAt + BucketOf(nanos)]);
    }

    private long Sum(int at)
    {
        long total = 0;
        for (var s = 0; s < _counters.Length; s += StripeLength) total += Volatile.Read(ref _counters[s + at]);
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
        for (var i = 0; i < BucketCount; i++) total += counts[i] = Sum(BucketsAt + i);
        return new MethodStatisticsSnapshot(grainType, interfaceName, method, calls, Failures,
            Sum(TimedAt) is var timed && timed == 0 ? 0 : Sum(NanosAt) / 1000.0 / timed,
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
