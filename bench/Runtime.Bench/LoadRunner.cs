using System.Diagnostics;

namespace Platform.Runtime.Bench;

/// <summary>State shared by the caller loops of one run: the phase flag and per-caller counters.</summary>
public sealed class LoadShared(int callers)
{
    public const int Warmup = 0, Measure = 1, Stop = 2;

    /// <summary>0 warm-up, 1 measuring, 2 stop.</summary>
    public volatile int Phase;

    private readonly long[] _counts = new long[callers * 8]; // one cache line per caller

    public void SetCount(int caller, long count) => _counts[caller * 8] = count;

    public long Total()
    {
        long t = 0;
        for (var i = 0; i < _counts.Length; i += 8) t += _counts[i];
        return t;
    }
}

public readonly record struct LoadResult(long Operations, double Seconds, Percentiles? Latency, double BytesPerOp, int Gen0, int Gen1, int Gen2, int Threads = 0, double OthersCpu = double.NaN)
{
    public double PerSecond => Operations / Seconds;
}

/// <summary>
/// Starts N caller loops on the thread pool, lets them warm up, then counts (and optionally times) the
/// operations done between two timestamps taken by the coordinating (main) thread.
/// </summary>
public static class LoadRunner
{
    /// <summary>
    /// Runs <paramref name="trials"/> independent runs (fresh caller loops each time; the first with the full
    /// warm-up, later ones with a short one) and returns them in order.
    /// </summary>
    public static List<LoadResult> RunTrials(int trials, int callers, Func<int, LoadShared, LatencyHistogram?, Task> loop, TimeSpan warmup, TimeSpan measure)
    {
        var results = new List<LoadResult>(trials);
        for (var t = 0; t < trials; t++)
            results.Add(Run(callers, loop, t == 0 ? warmup : TimeSpan.FromSeconds(0.3), measure, latency: false));
        return results;
    }

    /// <summary>
    /// One caller's loop for <see cref="Run"/>: awaits <paramref name="operation"/> (given 1, 2, 3, ...) until the
    /// run stops, timing and counting the operations of the measure phase.
    /// </summary>
    public static async Task TimedLoop(Func<long, Task> operation, int index, LoadShared shared, LatencyHistogram histogram)
    {
        await Task.Yield();
        long n = 0, v = 0;
        while (true)
        {
            var phase = shared.Phase;
            if (phase == LoadShared.Stop) break;
            var t0 = Stopwatch.GetTimestamp();
            await operation(++v);
            var t1 = Stopwatch.GetTimestamp();
            if (phase == LoadShared.Measure)
            {
                histogram.Record(t1 - t0);
                n++;
            }
        }
        shared.SetCount(index, n);
    }

    public static LoadResult Run(int callers, Func<int, LoadShared, LatencyHistogram?, Task> loop, TimeSpan warmup, TimeSpan measure, bool latency,
        Action? onMeasureStart = null, Action? onMeasureEnd = null)
    {
        var shared = new LoadShared(callers);
        var histograms = latency ? new LatencyHistogram[callers] : null;
        var tasks = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            var index = i;
            var h = histograms is null ? null : histograms[i] = new LatencyHistogram();
            tasks[i] = Task.Run(() => loop(index, shared, h));
        }

        Thread.Sleep(warmup);
        onMeasureStart?.Invoke();
        var g0 = GC.CollectionCount(0);
        var g1 = GC.CollectionCount(1);
        var g2 = GC.CollectionCount(2);
        var bytes0 = GC.GetTotalAllocatedBytes(false);
        var cpu0 = CpuSample.Take();
        var t0 = Stopwatch.GetTimestamp();
        shared.Phase = LoadShared.Measure;
        Thread.Sleep(measure);
        shared.Phase = LoadShared.Stop;
        var t1 = Stopwatch.GetTimestamp();
        var cpu1 = CpuSample.Take();
        var bytes1 = GC.GetTotalAllocatedBytes(false);
        var threads = ThreadPool.ThreadCount;
        var gen0 = GC.CollectionCount(0) - g0;
        var gen1 = GC.CollectionCount(1) - g1;
        var gen2 = GC.CollectionCount(2) - g2;
        onMeasureEnd?.Invoke();
        if (!Task.WaitAll(tasks, TimeSpan.FromSeconds(60)))
            throw new TimeoutException("caller loops did not stop within 60 s of the end of the run");

        var ops = shared.Total();
        Percentiles? lat = null;
        if (histograms is not null)
        {
            var all = new LatencyHistogram();
            foreach (var h in histograms) all.Add(h);
            lat = all.Summary();
        }
        var seconds = (t1 - t0) / (double)Stopwatch.Frequency;
        return new LoadResult(ops, seconds, lat, ops == 0 ? 0 : (double)(bytes1 - bytes0) / ops, gen0, gen1, gen2, threads, CpuSample.OthersPercent(cpu0, cpu1));
    }
}
