using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Platform.Cluster.Bench;

/// <summary>One measured call scenario (median trial for throughput and machine usage; latency over all trials).</summary>
public sealed record CallRow(string Scenario, int Callers, int Trials, double Median, double Min, double Max, Percentiles Latency,
    MachineUsage Usage, double OpsOfUsage, double BytesPerOp, int Gen0, long Errors, string? FirstError)
{
    public double DriverMicrosPerCall => Usage.DriverCores * 1e6 / (OpsOfUsage / Usage.Seconds);
    public double ChildMicrosPerCall => Usage.ChildCores * 1e6 / (OpsOfUsage / Usage.Seconds);
    public double DriverSwitchesPerCall => Usage.DriverSwitches / OpsOfUsage;
    public double ChildSwitchesPerCall => Usage.ChildSwitches / OpsOfUsage;
    public double SegmentsPerCall => Usage.TcpSegments / OpsOfUsage;
}

/// <summary>
/// Cross-silo calls: the driver (a silo itself) calls echo grains that the placement puts on the child silo,
/// so every call is a request frame to the child and a response frame back, over loopback TCP.
/// </summary>
public static class CallBenchmarks
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<List<CallRow>> RunAsync(BenchOptions o, Harness h)
    {
        var transport = h.Certificates is null ? "plain TCP" : "TLS";
        var child = await h.SpawnAsync("child");
        await h.WaitForActiveAsync(2, [child], TimeSpan.FromSeconds(60));
        var version = h.Driver.View.Version;
        Console.WriteLine($"cluster {h.ClusterId} ({transport} between silos): driver {h.Driver.Self} (pid {Environment.ProcessId}), child {child.Address} (pid {child.Pid}); both see 2 Active silos (table version {version})");

        var max = o.Callers.Max();
        var sw = Stopwatch.StartNew();
        var keys = await h.KeysOnAsync(child.Pid, max, "echo-");
        var grains = keys.Select(k => h.Driver.Factory.GetGrain<IEchoGrain>(k)).ToArray();
        Console.WriteLine($"{keys.Count} keys placed on the child found (and activated there) in {sw.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"== calls: throughput = median of {o.Trials} trials of {o.Seconds.TotalSeconds:0.#} s after {o.Warmup.TotalSeconds:0.#} s warm-up (0.5 s before later trials);");
        Console.WriteLine($"   every call timed with Stopwatch ({Stopwatch.Frequency:N0} ticks/s), latency percentiles over all trials; CPU from /proc of the median trial");

        var rows = new List<CallRow>();
        foreach (var callers in o.Callers)
        {
            var trials = new List<LoadResult>();
            for (var t = 0; t < o.Trials; t++)
            {
                if (o.QuietCores > 0)
                {
                    var waited = await LoadRunner.WaitQuietAsync(child.Pid, o.QuietCores, o.QuietWait);
                    if (o.Verbose || waited > TimeSpan.FromSeconds(3))
                        Console.WriteLine($"      waited {waited.TotalSeconds:0} s for other processes to use < {o.QuietCores:0.##} cores");
                }
                var r = await LoadRunner.RunAsync(callers, (i, shared, hist) => Loop(grains[i], o.Method == "PingYield", i, shared, hist),
                    t == 0 ? o.Warmup : TimeSpan.FromSeconds(0.5), o.Seconds, child.Pid);
                trials.Add(r);
                if (o.Verbose) Console.WriteLine($"      trial {t + 1}: {r.PerSecond,12:N0} calls/s, p50 {r.Latency.PercentileMicros(0.5):0.0} µs, driver {r.Usage.DriverCores:0.00} cores, child {r.Usage.ChildCores:0.00} cores, others {r.Usage.OtherCores:0.00} cores, gen0 {r.Gen0}, pool threads {r.Threads}, errors {r.Errors}");
            }
            var sorted = trials.OrderBy(t => t.PerSecond).ToList();
            var median = sorted[sorted.Count / 2];
            var all = new LatencyHistogram();
            foreach (var t in trials) all.Add(t.Latency);
            var row = new CallRow(callers == 1 ? $"1 caller, {o.Method} (cross-silo, {transport})" : $"{callers:N0} callers, {o.Method}, own grain each (cross-silo, {transport})",
                callers, trials.Count, median.PerSecond, sorted[0].PerSecond, sorted[^1].PerSecond, all.Summary(),
                median.Usage, median.Operations, median.BytesPerOp, median.Gen0, trials.Sum(t => t.Errors), trials.Select(t => t.FirstError).FirstOrDefault(e => e is not null));
            rows.Add(row);
            PrintRow(row);
        }

        // The numbers are cross-silo only if nothing moved: same view, and the grains still answer from the child.
        var pids = await Task.WhenAll(grains.Take(50).Select(g => g.Pid()));
        var moved = pids.Count(p => p != child.Pid);
        Console.WriteLine($"after the runs: table version {h.Driver.View.Version} (was {version}); {moved} of 50 sampled grains answer from another process than the child");
        Console.WriteLine($"   (latency with N callers in flight is N / throughput by Little's law: {string.Join(", ", rows.Select(r => $"{r.Callers:N0} / {r.Median:N0} per s = {r.Callers * 1e6 / r.Median:0.#} µs mean"))})");
        return rows;
    }

    private static async Task Loop(IEchoGrain grain, bool yield, int index, LoadShared shared, LatencyHistogram histogram)
    {
        await Task.Yield();
        long n = 0;
        var x = 0;
        while (true)
        {
            var phase = shared.Phase;
            if (phase == LoadShared.Stop) break;
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                x = yield ? await grain.PingYield(x) : await grain.Ping(x);
            }
            catch (Exception e)
            {
                shared.Error(e);
                await Task.Delay(10);
                continue;
            }
            var t1 = Stopwatch.GetTimestamp();
            if (phase == LoadShared.Measure)
            {
                histogram.Record(t1 - t0);
                n++;
            }
        }
        shared.SetCount(index, n);
    }

    public static string Rate(double perSecond) => perSecond >= 1_000_000
        ? (perSecond / 1_000_000).ToString("0.00", Inv) + " M"
        : perSecond >= 10_000 ? (perSecond / 1000).ToString("0.0", Inv) + " k" : perSecond.ToString("0", Inv);

    public static string Micros(double us) => double.IsNaN(us) ? "-"
        : us < 10 ? us.ToString("0.00", Inv) : us < 1000 ? us.ToString("0.0", Inv) : us.ToString("0", Inv);

    private static void PrintRow(CallRow r)
    {
        var l = r.Latency;
        Console.WriteLine($"  {r.Scenario,-48} {Rate(r.Median),9}/s ({Rate(r.Min)}–{Rate(r.Max)})  p50 {Micros(l.P50),7} µs  p99 {Micros(l.P99),7} µs  p99.9 {Micros(l.P999),7} µs  max {Micros(l.Max)} µs");
        Console.WriteLine($"  {"",-48} CPU cores: driver {r.Usage.DriverCores:0.00}, child {r.Usage.ChildCores:0.00}, others {r.Usage.OtherCores:0.00} of {r.Usage.MachineCores:0}; " +
                          $"CPU per call: driver {r.DriverMicrosPerCall:0.0} µs, child {r.ChildMicrosPerCall:0.0} µs; context switches per call: driver {r.DriverSwitchesPerCall:0.00}, child {r.ChildSwitchesPerCall:0.00}; " +
                          $"TCP segments per call {r.SegmentsPerCall:0.00}; driver alloc {r.BytesPerOp:0} B/call, gen0 {r.Gen0}; errors {r.Errors}{(r.FirstError is null ? "" : $" (first: {r.FirstError})")}");
    }

    public static string Markdown(IReadOnlyList<CallRow> rows)
    {
        var sb = new StringBuilder();
        var trials = rows.Count == 0 ? 0 : rows[0].Trials;
        sb.AppendLine($"| scenario | calls/s (median of {trials}) | min–max of trials | p50 µs | p99 µs | p99.9 µs | max µs | CPU cores used: driver / child / other processes | CPU µs per call: driver / child | context switches per call: driver / child | TCP segments per call | driver alloc B/call | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var l = r.Latency;
            sb.AppendLine($"| {r.Scenario} | {r.Median.ToString("N0", Inv)} | {r.Min.ToString("N0", Inv)}–{r.Max.ToString("N0", Inv)} | {Micros(l.P50)} | {Micros(l.P99)} | {Micros(l.P999)} | {Micros(l.Max)} | " +
                          $"{r.Usage.DriverCores:0.00} / {r.Usage.ChildCores:0.00} / {r.Usage.OtherCores:0.00} | {r.DriverMicrosPerCall:0.0} / {r.ChildMicrosPerCall:0.0} | {r.DriverSwitchesPerCall:0.00} / {r.ChildSwitchesPerCall:0.00} | {r.SegmentsPerCall:0.00} | {r.BytesPerOp:0} | {r.Errors} |");
        }
        return sb.ToString();
    }
}
