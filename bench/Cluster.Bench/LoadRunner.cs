using System.Diagnostics;

namespace Platform.Cluster.Bench;

/// <summary>State shared by the caller loops of one run: the phase flag, per-caller counters and errors.</summary>
public sealed class LoadShared(int callers)
{
    public const int Warmup = 0, Measure = 1, Stop = 2;

    /// <summary>0 warm-up, 1 measuring, 2 stop.</summary>
    public volatile int Phase;

    private readonly long[] _counts = new long[callers * 8]; // one cache line per caller
    private long _errors;
    private string? _firstError;

    public void SetCount(int caller, long count) => _counts[caller * 8] = count;

    public void Error(Exception e)
    {
        if (Interlocked.Increment(ref _errors) == 1) _firstError = $"{e.GetType().Name}: {e.Message}";
    }

    public long Errors => Interlocked.Read(ref _errors);
    public string? FirstError => _firstError;

    public long Total()
    {
        long t = 0;
        for (var i = 0; i < _counts.Length; i += 8) t += _counts[i];
        return t;
    }
}

public sealed record LoadResult(long Operations, double Seconds, LatencyHistogram Latency, MachineUsage Usage, double BytesPerOp,
    int Gen0, int Gen1, int Gen2, int Threads, long Errors, string? FirstError)
{
    public double PerSecond => Operations / Seconds;
}

/// <summary>
/// Starts N caller loops on the thread pool, lets them warm up, then counts and times the calls done between two
/// timestamps; the coordinator only awaits timers, so it holds no thread while the loops run.
/// </summary>
public static class LoadRunner
{
    /// <summary>
    /// Waits (up to <paramref name="maxWait"/>) until other processes used less than <paramref name="cores"/> cores for
    /// two seconds in a row, so a trial does not start in the middle of someone else's build; returns the time waited.
    /// </summary>
    public static async Task<TimeSpan> WaitQuietAsync(int childPid, double cores, TimeSpan maxWait)
    {
        var sw = Stopwatch.StartNew();
        var quiet = 0;
        while (sw.Elapsed < maxWait && quiet < 2)
        {
            var a = MachineSample.Take(childPid);
            var t = Stopwatch.GetTimestamp();
            await Task.Delay(1000);
            var u = MachineUsage.Between(a, MachineSample.Take(childPid), Stopwatch.GetElapsedTime(t).TotalSeconds);
            if (double.IsNaN(u.OtherCores)) return sw.Elapsed;
            quiet = u.OtherCores < cores ? quiet + 1 : 0;
        }
        return sw.Elapsed;
    }

    public static async Task<LoadResult> RunAsync(int callers, Func<int, LoadShared, LatencyHistogram, Task> loop, TimeSpan warmup, TimeSpan measure, int childPid)
    {
        var shared = new LoadShared(callers);
        var histograms = new LatencyHistogram[callers];
        var tasks = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            var index = i;
            var h = histograms[i] = new LatencyHistogram();
            tasks[i] = Task.Run(() => loop(index, shared, h));
        }

        await Task.Delay(warmup);
        var g0 = GC.CollectionCount(0);
        var g1 = GC.CollectionCount(1);
        var g2 = GC.CollectionCount(2);
        var bytes0 = GC.GetTotalAllocatedBytes(false);
        var m0 = MachineSample.Take(childPid);
        var t0 = Stopwatch.GetTimestamp();
        shared.Phase = LoadShared.Measure;
        await Task.Delay(measure);
        shared.Phase = LoadShared.Stop;
        var t1 = Stopwatch.GetTimestamp();
        var m1 = MachineSample.Take(childPid);
        var bytes1 = GC.GetTotalAllocatedBytes(false);
        var threads = ThreadPool.ThreadCount;
        var gen0 = GC.CollectionCount(0) - g0;
        var gen1 = GC.CollectionCount(1) - g1;
        var gen2 = GC.CollectionCount(2) - g2;
        var stopped = Task.WhenAll(tasks);
        if (await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(60))) != stopped)
            throw new TimeoutException("caller loops did not stop within 60 s of the end of the run");

        var ops = shared.Total();
        var all = new LatencyHistogram();
        foreach (var h in histograms) all.Add(h);
        var seconds = (t1 - t0) / (double)Stopwatch.Frequency;
        return new LoadResult(ops, seconds, all, MachineUsage.Between(m0, m1, seconds), ops == 0 ? 0 : (double)(bytes1 - bytes0) / ops,
            gen0, gen1, gen2, threads, shared.Errors, shared.FirstError);
    }
}
