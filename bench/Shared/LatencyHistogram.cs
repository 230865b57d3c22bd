using System.Diagnostics;
using System.Numerics;

namespace Platform.Bench;

/// <summary>
/// Log-linear histogram of Stopwatch ticks: exact below 128 ticks, then 64 buckets per power of two
/// (each bucket within 1.6% of its values). Not thread-safe: one per caller, merged afterwards.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Linear = 128;
    private const int SubBuckets = 64;
    private const int Size = Linear + 58 * SubBuckets;
    private readonly long[] _counts = new long[Size];

    public long Count { get; private set; }
    public long MaxTicks { get; private set; }

    public void Record(long ticks)
    {
        if (ticks < 0) ticks = 0;
        _counts[Index(ticks)]++;
        Count++;
        if (ticks > MaxTicks) MaxTicks = ticks;
    }

    private static int Index(long v)
    {
        if (v < Linear) return (int)v;
        var log = BitOperations.Log2((ulong)v); // >= 7
        var shift = log - 6;                     // keeps 7 significant bits: mantissa in [64, 127]
        var m = (int)(v >> shift);
        return Linear + (shift - 1) * SubBuckets + (m - SubBuckets);
    }

    private static double Midpoint(int index)
    {
        if (index < Linear) return index;
        var shift = (index - Linear) / SubBuckets + 1;
        var m = (index - Linear) % SubBuckets + SubBuckets;
        return ((double)((long)m << shift) + ((long)(m + 1) << shift)) / 2;
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < Size; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        if (other.MaxTicks > MaxTicks) MaxTicks = other.MaxTicks;
    }

    /// <summary>The q-quantile in microseconds.</summary>
    public double PercentileMicros(double q)
    {
        if (Count == 0) return double.NaN;
        var rank = (long)Math.Ceiling(Count * q);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var i = 0; i < Size; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return TicksToMicros(Midpoint(i));
        }
        return TicksToMicros(MaxTicks);
    }

    public double MaxMicros => TicksToMicros(MaxTicks);

    public static double TicksToMicros(double ticks) => ticks * 1e6 / Stopwatch.Frequency;

    public Percentiles Summary() => new(Count, PercentileMicros(0.50), PercentileMicros(0.99), PercentileMicros(0.999), MaxMicros);
}

public readonly record struct Percentiles(long Samples, double P50, double P99, double P999, double Max);
