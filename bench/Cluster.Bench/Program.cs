using System.Diagnostics;
using System.Globalization;
using Platform.Cluster.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var which = args.FirstOrDefault()?.ToLowerInvariant() ?? "";
if (which == "serve") return await Serve.RunAsync(args);
if (which == "breakdown")
{
    Console.WriteLine($"machine: {Machine.Summary()}");
    Console.WriteLine($"runtime: {Machine.Runtime()}");
    await Breakdown.RunAsync(BenchOptions.Parse(args).BreakdownSeconds);
    return 0;
}
if (which is not ("calls" or "failover" or "all"))
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/Cluster.Bench -- <calls|failover|all> [options]
               dotnet bin/.../Platform.Cluster.Bench.dll serve --postgres CONN --cluster-id ID [--silo-port P] [--name NAME]
          calls     cross-silo grain calls between this process (a silo) and one serve child on loopback:
                    throughput and latency with 1 and 1,000 callers
          failover  10 rounds: SIGKILL a serve child that owns a grain; time to Dead and to the first successful call
          all       calls, then failover (each on its own fresh cluster)
          breakdown the parts of a call measured alone (wire format, a thread hop, raw loopback TCP); also run after calls
          serve     one silo process (spawned by the driver; runs until SIGTERM or stdin closes)
        options:
          --seconds N     measure window of each call trial (default 5)
          --warmup N      warm-up before the first trial of a scenario (default 2)
          --trials N      call trials per scenario, median reported (default 3)
          --callers LIST  comma-separated caller counts (default 1,1000)
          --method M      Ping (the grain answers at once; default) or PingYield (it awaits Task.Yield first, so
                          the call runs, and its response is sent, from the thread pool)
          --kills N       failover rounds (default 10)
          --settle N      seconds between the victim's grain being found and the kill (default 3)
          --quick         smoke test: 1 trial of 1 s, 0.5 s warm-up, 2 kills
          --quiet-cores X before each call trial, wait (up to 15 s) until other processes use < X cores (default 0.3; 0 = don't wait)
          --no-breakdown  calls without the breakdown afterwards
          --tls off|on|both  silo-to-silo transport of the calls cluster: plain TCP (default), TLS with mutual
                          authentication, or both, one after the other in the same run
          --verbose       each trial
        PostgreSQL: PLATFORM_BENCH_PG or PLATFORM_TEST_PG (Npgsql connection string); if neither is set, a private
        server is started with scripts/pg-private.sh and stopped afterwards. Each run uses a fresh cluster id.
        """);
    return 2;
}

var options = BenchOptions.Parse(args);
var started = DateTime.UtcNow;
Console.WriteLine($"machine: {Machine.Summary()}");
Console.WriteLine($"runtime: {Machine.Runtime()}");
Console.WriteLine($"date (UTC): {started:yyyy-MM-dd HH:mm}; {Machine.LoadAverage()}");

using var pg = PrivatePostgres.Acquire();
Console.WriteLine($"PostgreSQL (membership table): {pg.Describe()}");
Console.WriteLine();

List<CallRow>? calls = null;
List<KillRound>? kills = null;
List<Breakdown.Line>? breakdown = null;
string? callsLogs = null, failoverLogs = null;
if (which is "calls" or "all")
{
    calls = [];
    // "--tls both": the same scenarios on a plain cluster, then on a TLS cluster, side by side in one run.
    foreach (var tls in options.Tls switch { "on" => new[] { true }, "both" => [false, true], _ => [false] })
    {
        await using var h = await Harness.StartAsync(pg.ConnectionString, tls ? "calls-tls" : "calls", tls);
        callsLogs = callsLogs is null ? h.LogDir : $"{callsLogs} {h.LogDir}";
        calls.AddRange(await CallBenchmarks.RunAsync(options, h));
        Console.WriteLine($"stopping the cluster (logs in {h.LogDir})");
    }
}
if (which is "calls" or "all" && options.Breakdown)
{
    Console.WriteLine();
    breakdown = await Breakdown.RunAsync(options.BreakdownSeconds);
}
if (which is "failover" or "all")
{
    await using var h = await Harness.StartAsync(pg.ConnectionString, "failover");
    failoverLogs = h.LogDir;
    kills = await FailoverBenchmark.RunAsync(options, h);
    Console.WriteLine($"stopping the cluster (logs in {h.LogDir})");
}

Console.WriteLine();
Console.WriteLine("---- markdown ----");
Console.WriteLine($"Command: `dotnet run -c Release --project bench/Cluster.Bench -- {string.Join(' ', args)}` — {started:yyyy-MM-dd} (UTC), total {(DateTime.UtcNow - started).TotalSeconds:0} s");
Console.WriteLine();
if (calls is not null)
{
    Console.WriteLine("Cross-silo calls, driver silo → child silo process over loopback TCP (goal: ≥ 200,000 calls/s, p50 < 200 µs):");
    Console.WriteLine();
    Console.Write(CallBenchmarks.Markdown(calls));
    Console.WriteLine();
}
if (breakdown is not null)
{
    Console.WriteLine("Parts of a call measured alone (same machine, in the driver process):");
    Console.WriteLine();
    Console.WriteLine("| part | time | note |");
    Console.WriteLine("|---|---:|---|");
    foreach (var l in breakdown) Console.WriteLine($"| {l.Name} | {l.Value} | {l.Note} |");
    Console.WriteLine();
}
if (kills is not null)
{
    Console.WriteLine("Failure detection, SIGKILL of a silo process, default MembershipOptions (goal: Dead within 10 s):");
    Console.WriteLine();
    Console.Write(FailoverBenchmark.Summary(kills));
    Console.WriteLine();
    Console.Write(FailoverBenchmark.Rounds(kills));
    Console.WriteLine();
}
Console.WriteLine($"Machine at the end: {Machine.LoadAverage()}");
Console.WriteLine("---- end ----");
if (callsLogs is not null) Console.WriteLine($"logs: {callsLogs}");
if (failoverLogs is not null) Console.WriteLine($"logs: {failoverLogs}");
return 0;

public sealed class BenchOptions
{
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan Seconds { get; set; } = TimeSpan.FromSeconds(5);
    public int Trials { get; set; } = 3;
    public int[] Callers { get; set; } = [1, 1000];

    /// <summary>The grain method called: Ping (answers at once) or PingYield (awaits first, so it answers from the thread pool).</summary>
    public string Method { get; set; } = "Ping";
    public int Kills { get; set; } = 10;
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(3);
    public bool Verbose { get; set; }
    public string Tls { get; set; } = "off";
    public double QuietCores { get; set; } = 0.3;
    public TimeSpan QuietWait { get; set; } = TimeSpan.FromSeconds(15);
    public bool Breakdown { get; set; } = true;
    public TimeSpan BreakdownSeconds { get; set; } = TimeSpan.FromSeconds(2);

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Seconds() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick":
                    o.Warmup = TimeSpan.FromSeconds(0.5);
                    o.Seconds = TimeSpan.FromSeconds(1);
                    o.Trials = 1;
                    o.Kills = 2;
                    o.Settle = TimeSpan.FromSeconds(1);
                    o.QuietCores = 0;
                    o.BreakdownSeconds = TimeSpan.FromSeconds(0.5);
                    break;
                case "--quiet-cores": o.QuietCores = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-breakdown": o.Breakdown = false; break;
                case "--seconds": o.Seconds = TimeSpan.FromSeconds(Seconds()); break;
                case "--warmup": o.Warmup = TimeSpan.FromSeconds(Seconds()); break;
                case "--trials": o.Trials = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--callers": o.Callers = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; break;
                case "--method":
                    o.Method = Next();
                    if (o.Method is not ("Ping" or "PingYield")) throw new ArgumentException($"--method is '{o.Method}'; expected Ping or PingYield");
                    break;
                case "--kills": o.Kills = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--settle": o.Settle = TimeSpan.FromSeconds(Seconds()); break;
                case "--verbose": o.Verbose = true; break;
                case "--tls":
                    o.Tls = Next().ToLowerInvariant();
                    if (o.Tls is not ("off" or "on" or "both")) throw new ArgumentException($"--tls is '{o.Tls}'; expected off, on or both");
                    break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return o;
    }
}
