using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Runtime.Statistics;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Bench;

/// <summary>
/// Where the time of a synchronous in-silo call goes: the building blocks the inline call path runs
/// (see ActivationData.TryInvoke/InvokeInline/ExitInline), timed in isolation, single-threaded and on
/// all cores at once; plus the full call on all cores with shared versus separate per-method statistics.
/// </summary>
public static class Breakdown
{
    private const int Iterations = 20_000_000;

    public static void Run(BenchOptions o)
    {
        Console.WriteLine("== breakdown: cost of the pieces of one inline grain call (ns per operation, best of 3)");
        var n = Environment.ProcessorCount;
        s_filter = o.Filter;

        Time("baseline: integer loop (xorshift), 1 thread", 1, _ => XorShift(Iterations));
        Time($"baseline: integer loop (xorshift), {n} threads (how well the cores scale)", n, _ => XorShift(Iterations));
        Time($"baseline: allocate 24 B object, {n} threads", n, _ => { object? o = null; for (var i = 0; i < Iterations; i++) o = new object(); return o!.GetHashCode(); });
        Time("Stopwatch.GetTimestamp() (runtime: 2 per call)", 1, _ => { long s = 0; for (var i = 0; i < Iterations; i++) s += Stopwatch.GetTimestamp(); return s; });
        Time("Environment.TickCount64 (runtime: 2 per call)", 1, _ => { long s = 0; for (var i = 0; i < Iterations; i++) s += Environment.TickCount64; return s; });
        var lk = new Lock();
        Time("Lock enter+exit, uncontended (runtime: 2 per call)", 1, _ => { long s = 0; for (var i = 0; i < Iterations; i++) { lock (lk) s++; } return s; });
        var ctx = new SynchronizationContext();
        Time("SetSynchronizationContext x2", 1, _ => { long s = 0; for (var i = 0; i < Iterations; i++) { var p = SynchronizationContext.Current; SynchronizationContext.SetSynchronizationContext(ctx); SynchronizationContext.SetSynchronizationContext(p); s++; } return s; });
        var dict = new ConcurrentDictionary<GrainId, object>();
        for (var i = 0; i < 10_000; i++) dict[new GrainId("ping", "k" + i)] = new object();
        var id = new GrainId("ping", "k42");
        Time("ConcurrentDictionary<GrainId,_>.TryGetValue (catalog lookup)", 1, t => { long s = 0; for (var i = 0; i < Iterations; i++) if (dict.TryGetValue(id, out var v)) s++; return s; });

        var shared = new MethodStatistics();
        Time("MethodStatistics.Record, 1 thread", 1, _ => { for (var i = 0; i < Iterations; i++) shared.Record(250, false); return 0; });
        Time($"MethodStatistics.Record, {n} threads, ONE shared instance", n, _ => { for (var i = 0; i < Iterations; i++) shared.Record(250, false); return 0; });
        var separate = Enumerable.Range(0, n).Select(_ => new MethodStatistics()).ToArray();
        Time($"MethodStatistics.Record, {n} threads, one instance each", n, t => { var m = separate[t]; for (var i = 0; i < Iterations; i++) m.Record(250, false); return 0; });

        var silo = BenchSilo.StartAsync(s => s.AddMemoryGrainStorage()).GetAwaiter().GetResult();
        try
        {
            var pings = Enumerable.Range(0, n).Select(i => silo.Factory.GetGrain<IPingGrain>("bd" + i)).ToArray();
            var pongs = Enumerable.Range(0, n).Select(i => silo.Factory.GetGrain<IPongGrain>("bd" + i)).ToArray();
            foreach (var g in pings) g.Ping(0).AsTask().Wait();
            foreach (var g in pongs) g.Ping(0).AsTask().Wait();
            Time("full call: IPingGrain.Ping (sync), 1 thread", 1, _ => { var x = 0; for (var i = 0; i < Iterations / 4; i++) x = Sync(pings[0].Ping(x)); return x; }, Iterations / 4);
            Time($"full call: IPingGrain.Ping, {n} threads, own grain, SAME method (shared statistics)", n, t => { var g = pings[t]; var x = 0; for (var i = 0; i < Iterations / 4; i++) x = Sync(g.Ping(x)); return x; }, Iterations / 4);
            if (n >= 2)
                Time("full call: 2 threads, own grain, DIFFERENT interfaces (separate statistics)", 2, t =>
                {
                    var x = 0;
                    if (t == 0) { var g = pings[0]; for (var i = 0; i < Iterations / 4; i++) x = Sync(g.Ping(x)); }
                    else { var g = pongs[1]; for (var i = 0; i < Iterations / 4; i++) x = Sync(g.Ping(x)); }
                    return x;
                }, Iterations / 4);
        }
        finally
        {
            silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static long XorShift(int iterations)
    {
        ulong x = 88172645463325252UL;
        for (var i = 0; i < iterations; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
        return (long)x;
    }

    private static int Sync(ValueTask<int> t) => t.IsCompletedSuccessfully ? t.Result : t.AsTask().GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="body"/> on <paramref name="threads"/> threads at once; prints ns per op per thread and total ops/s.</summary>
    private static string? s_filter;

    private static void Time(string name, int threads, Func<int, long> body, int iterations = Iterations)
    {
        if (s_filter is { } f && !name.Contains(f, StringComparison.OrdinalIgnoreCase)) return;
        body(0); // warm up / tier up (a full pass: loops OSR, then tier 1)
        var best = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            using var go = new Barrier(threads + 1);
            var ts = Enumerable.Range(0, threads).Select(t => new Thread(() => { go.SignalAndWait(); GC.KeepAlive(body(t)); })).ToArray();
            foreach (var th in ts) th.Start();
            go.SignalAndWait();
            var t0 = Stopwatch.GetTimestamp();
            foreach (var th in ts) th.Join();
            var elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            best = Math.Min(best, elapsed);
        }
        var nsPerOp = best * 1e9 / iterations;
        Console.WriteLine($"  {name,-82} {nsPerOp,7:0.0} ns/op per thread   {threads * iterations / best / 1e6,7:0.00} M ops/s total");
    }
}
