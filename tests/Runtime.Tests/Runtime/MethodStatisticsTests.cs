using System.Diagnostics;
using Platform.Runtime.Statistics;

namespace Platform.Runtime.Tests.Runtime;

/// <summary>A method's counters summed over the per-core stripes they are kept in.</summary>
public sealed class MethodStatisticsTests
{
    private static long Ticks(double micros) => (long)(micros * Stopwatch.Frequency / 1e6);

    [Fact]
    public void Calls_failures_and_latency_recorded_from_many_threads_add_up_to_the_whole()
    {
        var statistics = new MethodStatistics();
        // 40,000 calls from four threads: a tenth failed, 90% of the timed ones took 10 µs and 10% took 1,000 µs.
        Parallel.For(0, 40_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var failed = i % 10 == 0;
            if (i % 2 == 0) statistics.Count(failed);
            else statistics.Record(Ticks(i % 20 == 1 ? 1_000 : 10), failed);
        });

        Assert.Equal(40_000, statistics.Calls);
        Assert.Equal(4_000, statistics.Failures);
        var snapshot = statistics.Snapshot("t", "i", "m");
        Assert.Equal(40_000, snapshot.Calls);
        // Buckets are a quarter of a power of two wide: the upper bound is within 25% above the true value.
        Assert.InRange(snapshot.P50Micros, 10, 12.5);
        Assert.InRange(snapshot.P99Micros, 1_000, 1_250);
        Assert.InRange(snapshot.MeanMicros, 0.9 * 109, 1.1 * 109);
    }
}
