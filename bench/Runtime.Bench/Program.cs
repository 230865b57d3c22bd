using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using Platform.Runtime.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var which = args.FirstOrDefault(a => !a.StartsWith('-'))?.ToLowerInvariant() ?? "";
if (which is not ("calls" or "storage" or "journal" or "all" or "micro" or "breakdown"))
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/Runtime.Bench -- <calls|storage|journal|all|micro> [options]
          calls     in-silo grain calls: throughput and latency, 1 / per-core / 1,000 callers
          storage   durable grain-state writes/s on SQLite (temp file) and PostgreSQL, 1 and 64 grains
          journal   durable journal appends/s (one record each) on SQLite (temp file) and PostgreSQL, 1 and 64 streams
          all       calls, then storage
          micro     BenchmarkDotNet: single-call cost of Ping/PingTask (mean ns, allocations)
          breakdown where a sync call's time goes: its building blocks timed alone, and statistics contention
        options:
          --quick             short runs (0.5 s warm-up, 1 s measure) for smoke-testing
          --seconds N         measure window of each call throughput trial (default 2; 3 with 1,000 callers)
          --trials N          call throughput trials per scenario, median reported (default 3)
          --storage-seconds N measure window of each storage or journal run (default 5)
          --filter TEXT       only call scenarios whose name contains TEXT
          --min-threads N     ThreadPool.SetMinThreads(N, N) before running
          --verbose           extra per-run detail
          --no-pg-autoprepare skip the extra PostgreSQL run with Npgsql automatic preparation
        PostgreSQL: PLATFORM_BENCH_PG or PLATFORM_TEST_PG (Npgsql connection string); if neither is set,
        a private server is started with scripts/pg-private.sh and stopped afterwards.
        """);
    return 2;
}

if (which == "micro")
{
    var rest = args.SkipWhile(a => !a.Equals("micro", StringComparison.OrdinalIgnoreCase)).Skip(1).ToArray();
    BenchmarkRunner.Run<CallMicroBenchmarks>(args: rest);
    return 0;
}

var options = BenchOptions.Parse(args);
if (options.MinThreads is { } mt) ThreadPool.SetMinThreads(mt, mt);

var started = DateTime.UtcNow;
PrintMachine(options);

var rows = new List<Row>();
if (which == "breakdown") Breakdown.Run(options);
if (which is "calls" or "all") rows.AddRange(CallBenchmarks.Run(options));
if (which is "storage" or "all") rows.AddRange(StorageBenchmarks.Run(options));
if (which == "journal") rows.AddRange(JournalBenchmarks.Run(options));

Report.PrintTable(rows);
Console.WriteLine();
Console.WriteLine("---- markdown ----");
Console.WriteLine($"Command: `dotnet run -c Release --project bench/Runtime.Bench -- {string.Join(' ', args)}` — {started:yyyy-MM-dd} (UTC), total {(DateTime.UtcNow - started).TotalSeconds:0} s");
Console.WriteLine();
if (rows.Any(r => r.Suite == "calls"))
{
    Console.WriteLine("In-silo grain calls (ops/s from an untimed run; latency from a separate timed run):");
    Console.WriteLine();
    Console.Write(Report.Markdown(rows, "calls", "calls/s"));
    Console.WriteLine();
}
if (rows.Any(r => r.Suite == "storage"))
{
    Console.WriteLine("Durable state writes (each write returned only after it was durable):");
    Console.WriteLine();
    Console.Write(Report.Markdown(rows, "storage", "writes/s"));
    Console.WriteLine();
}
if (rows.Any(r => r.Suite == "journal"))
{
    Console.WriteLine("Durable journal appends (each append returned only after it was durable):");
    Console.WriteLine();
    Console.Write(Report.Markdown(rows, "journal", "appends/s"));
    Console.WriteLine();
}
Console.WriteLine($"Machine at the end: {LoadAverage()}");
Console.WriteLine("---- end ----");
return 0;

static void PrintMachine(BenchOptions o)
{
    string cpu = "?", mem = "?", os = RuntimeInformation.OSDescription;
    try { cpu = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("model name")).Split(':', 2)[1].Trim(); } catch (Exception) { }
    try
    {
        var kb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        mem = $"{kb / 1024.0 / 1024.0:0.0} GiB";
    }
    catch (Exception) { }
    try { os = File.ReadLines("/etc/os-release").First(l => l.StartsWith("PRETTY_NAME=")).Split('=', 2)[1].Trim('"') + $" (kernel {Environment.OSVersion.Version})"; } catch (Exception) { }
    ThreadPool.GetMinThreads(out var minWorkers, out _);
    var pgo = AppContext.TryGetSwitch("System.Runtime.TieredPGO", out var p) ? p.ToString() : "default(on)";
    Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs, {cpu}, {mem} RAM, {os}");
    Console.WriteLine($"runtime: {RuntimeInformation.FrameworkDescription}, {(Debugger.IsAttached ? "DEBUGGER " : "")}{(IsOptimized() ? "Release" : "DEBUG BUILD (numbers meaningless)")}, " +
                      $"GC {(GCSettings.IsServerGC ? "Server" : "Workstation")}/{GCSettings.LatencyMode}, TieredPGO {pgo}, ThreadPool min workers {minWorkers}");
    Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; {LoadAverage()}");
    Console.WriteLine();
}

static string LoadAverage()
{
    try { return "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1/5/15 min; other processes share these cores)"; }
    catch (IOException) { return ""; }
}

static bool IsOptimized()
{
    var a = typeof(BenchOptions).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().FirstOrDefault();
    return a is null || !a.IsJITOptimizerDisabled;
}

public sealed class BenchOptions
{
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan LatencyWarmup { get; set; } = TimeSpan.FromSeconds(0.5);
    public TimeSpan CallSeconds { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan ManyCallSeconds { get; set; } = TimeSpan.FromSeconds(3);
    public TimeSpan LatencySeconds { get; set; } = TimeSpan.FromSeconds(3);
    public int Trials { get; set; } = 3;
    public TimeSpan StorageSeconds { get; set; } = TimeSpan.FromSeconds(5);
    public int[] StorageConcurrency { get; set; } = [1, 64];
    public string? Filter { get; set; }
    public int? MinThreads { get; set; }
    public bool Verbose { get; set; }
    public bool PgUnprepared { get; set; } = true;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick":
                    o.Warmup = o.LatencyWarmup = TimeSpan.FromSeconds(0.5);
                    o.CallSeconds = o.ManyCallSeconds = o.LatencySeconds = o.StorageSeconds = TimeSpan.FromSeconds(1);
                    o.Trials = 1;
                    break;
                case "--seconds":
                    o.CallSeconds = o.ManyCallSeconds = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--storage-seconds":
                    o.StorageSeconds = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--trials": o.Trials = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--filter": o.Filter = Next(); break;
                case "--min-threads": o.MinThreads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--verbose": o.Verbose = true; break;
                case "--no-pg-unprepared": o.PgUnprepared = false; break;
            }
        }
        return o;
    }
}
