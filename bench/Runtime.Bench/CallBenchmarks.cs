using System.Diagnostics;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Bench;

public enum CallKind
{
    /// <summary>No grain call: the caller's own loop (and its yield), as a baseline.</summary>
    None,
    Ping,
    PingTask,
    PingYield,
}

public enum Keys
{
    /// <summary>Each caller has its own grain.</summary>
    PerCaller,
    /// <summary>Every caller calls the same grain.</summary>
    One,
}

public sealed record CallScenario(string Name, int Callers, CallKind Kind, bool CallerYields, Keys Keys, string Note = "");

/// <summary>In-silo grain calls: throughput (untimed loop) and per-call latency (timed loop), run separately.</summary>
public static class CallBenchmarks
{
    public static List<Row> Run(BenchOptions o)
    {
        var rows = new List<Row>();
        Console.WriteLine($"== calls: in-silo grain calls: throughput = median of {o.Trials} untimed trials of {o.CallSeconds.TotalSeconds:0.#} s ({o.ManyCallSeconds.TotalSeconds:0.#} s with 1,000 callers) after {o.Warmup.TotalSeconds:0.#} s warm-up;");
        Console.WriteLine($"   latency = one separate timed run of {o.LatencySeconds.TotalSeconds:0.#} s (every call timed) after {o.LatencyWarmup.TotalSeconds:0.#} s warm-up");
        Console.WriteLine($"   Stopwatch: {Stopwatch.Frequency:N0} ticks/s; back-to-back GetTimestamp p50 {TimestampCostNanos():0} ns (included in every timed call)");

        var silo = BenchSilo.StartAsync(s => s.AddMemoryGrainStorage()).GetAwaiter().GetResult();
        try
        {
            var n = Environment.ProcessorCount;
            CallScenario[] scenarios =
            [
                new("1 caller, ValueTask<int> Ping (sync)", 1, CallKind.Ping, false, Keys.PerCaller),
                new("1 caller, Task<int> PingTask (sync)", 1, CallKind.PingTask, false, Keys.PerCaller),
                new("1 caller, PingYield (await Task.Yield in grain: queued)", 1, CallKind.PingYield, false, Keys.PerCaller),
                new($"{n} callers back-to-back, Ping (one per core)", n, CallKind.Ping, false, Keys.PerCaller),
                new("1,000 callers, Ping, caller yields between calls", 1000, CallKind.Ping, true, Keys.PerCaller),
                new("1,000 callers, no call, caller yields (baseline)", 1000, CallKind.None, true, Keys.PerCaller),
                new("1,000 callers, PingYield (queued), own grain each", 1000, CallKind.PingYield, false, Keys.PerCaller),
                new("1,000 callers, Ping, ONE shared grain, caller yields", 1000, CallKind.Ping, true, Keys.One),
            ];
            if (o.Filter is { } f) scenarios = [.. scenarios.Where(s => s.Name.Contains(f, StringComparison.OrdinalIgnoreCase))];

            foreach (var s in scenarios)
            {
                var grains = Enumerable.Range(0, s.Callers)
                    .Select(i => silo.Factory.GetGrain<IPingGrain>(s.Keys == Keys.One ? "hot" : $"c{s.Callers}-{s.Kind}-{i}"))
                    .ToArray();
                // Activate every grain before any clock runs.
                Task.WhenAll(grains.Distinct().Select(g => g.Ping(0).AsTask())).GetAwaiter().GetResult();

                var measure = s.Callers > n ? o.ManyCallSeconds : o.CallSeconds;
                var trials = LoadRunner.RunTrials(o.Trials, s.Callers, (i, sh, _) => Loop(grains[i], s, i, sh), o.Warmup, measure);
                var lat = LoadRunner.Run(s.Callers, (i, sh, h) => TimedLoop(grains[i], s, i, sh, h!), o.LatencyWarmup, o.LatencySeconds, latency: true);
                var sorted = trials.OrderBy(t => t.PerSecond).ToList();
                var median = sorted[sorted.Count / 2];
                var row = new Row("calls", s.Name, s.Callers, median.PerSecond, trials.Sum(t => t.Operations), trials.Sum(t => t.Seconds), lat.Latency,
                    trials.Sum(t => t.BytesPerOp * t.Operations) / trials.Sum(t => t.Operations), median.Gen0, s.Note,
                    sorted[0].PerSecond, sorted[^1].PerSecond, trials.Count,
                    trials.Select(t => t.OthersCpu).Append(lat.OthersCpu).DefaultIfEmpty(double.NaN).Max());
                rows.Add(row);
                Report.PrintRow(row);
                if (o.Verbose)
                {
                    foreach (var tp in trials)
                        Console.WriteLine($"      throughput trial: {tp.PerSecond,12:N0} ops/s ({tp.Operations:N0} in {tp.Seconds:0.00} s), {tp.BytesPerOp:0.0} B/op, gen0/1/2 {tp.Gen0}/{tp.Gen1}/{tp.Gen2}, pool threads {tp.Threads}, others {tp.OthersCpu:0}% CPU");
                    Console.WriteLine($"      latency run:      {lat.PerSecond,12:N0} ops/s (timed), {lat.Latency?.Samples:N0} samples, max {lat.Latency?.Max:0} µs, gen0/1/2 {lat.Gen0}/{lat.Gen1}/{lat.Gen2}, pool threads {lat.Threads}, others {lat.OthersCpu:0}% CPU");
                }
            }
        }
        finally
        {
            silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return rows;
    }

    private static async Task Loop(IPingGrain grain, CallScenario s, int index, LoadShared shared)
    {
        await Task.Yield();
        long n = 0;
        var x = 0;
        while (true)
        {
            var phase = shared.Phase;
            if (phase == LoadShared.Stop) break;
            switch (s.Kind)
            {
                case CallKind.Ping: x = await grain.Ping(x); break;
                case CallKind.PingTask: x = await grain.PingTask(x); break;
                case CallKind.PingYield: x = await grain.PingYield(x); break;
            }
            if (phase == LoadShared.Measure) n++;
            if (s.CallerYields) await Task.Yield();
        }
        shared.SetCount(index, n);
    }

    private static async Task TimedLoop(IPingGrain grain, CallScenario s, int index, LoadShared shared, LatencyHistogram histogram)
    {
        await Task.Yield();
        long n = 0;
        var x = 0;
        while (true)
        {
            var phase = shared.Phase;
            if (phase == LoadShared.Stop) break;
            var t0 = Stopwatch.GetTimestamp();
            switch (s.Kind)
            {
                case CallKind.Ping: x = await grain.Ping(x); break;
                case CallKind.PingTask: x = await grain.PingTask(x); break;
                case CallKind.PingYield: x = await grain.PingYield(x); break;
            }
            var t1 = Stopwatch.GetTimestamp();
            if (phase == LoadShared.Measure)
            {
                histogram.Record(t1 - t0);
                n++;
            }
            if (s.CallerYields) await Task.Yield();
        }
        shared.SetCount(index, n);
    }

    private static double TimestampCostNanos()
    {
        var h = new LatencyHistogram();
        for (var i = 0; i < 200_000; i++)
        {
            var a = Stopwatch.GetTimestamp();
            var b = Stopwatch.GetTimestamp();
            h.Record(b - a);
        }
        return h.PercentileMicros(0.5) * 1000;
    }
}
