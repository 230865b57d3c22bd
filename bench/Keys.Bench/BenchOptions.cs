using System.Globalization;

namespace Platform.Keys.Bench;

/// <summary>Command-line options of the driver.</summary>
public sealed class BenchOptions
{
    public List<Target> Targets { get; } = [];
    public HashSet<string> Workloads { get; } = [.. AllWorkloads];
    public double Seconds { get; private set; } = 10;
    public double Warmup { get; private set; } = 3;
    public int[] PutClients { get; private set; } = [1, 64, 256];
    public int[] GetClients { get; private set; } = [64];
    public int[] Watchers { get; private set; } = [1000, 10000];
    public int MemoryWatchers { get; private set; } = 10000;
    public int Rounds { get; private set; } = 11;
    public int Keys { get; private set; } = 1000;
    public int ValueBytes { get; private set; } = 64;
    public double SettleSeconds { get; private set; } = 1;
    public double ServerWarmupSeconds { get; private set; } = 10;
    public double QuietCores { get; private set; } = 0.3;
    public double QuietWaitSeconds { get; private set; } = 15;
    public string? Commit { get; private set; }

    /// <summary>How the fan-out's watchers speak HTTP; each kind is a row of its own.</summary>
    public List<DriverKind> Drivers { get; private set; } = [DriverKind.Raw, DriverKind.HttpClient];

    /// <summary>Targets that serve only watches and a PUT that wakes them (the floor): they run the fan-out alone.</summary>
    public HashSet<string> FanoutOnly { get; } = [];
    public int WarmupFanouts { get; private set; } = 100;
    public bool ThreadCpu { get; private set; }

    /// <summary>Targets that lost an acknowledged PUT across SIGKILL and restart (bench/keys.sh checks before the run).</summary>
    public List<string> NotDurable { get; } = [];

    public static readonly string[] AllWorkloads = ["put", "get", "memory", "fanout"];

    public const string Usage = """
        usage: Platform.Keys.Bench --target NAME=URL[@PID] [--target NAME=URL[@PID]] [options]
               Platform.Keys.Bench free-ports N      print N free loopback TCP ports
               Platform.Keys.Bench put-key URL KEY VALUE | get-key URL KEY   one PUT or GET (the durability check)
        Drives etcd v2 keys API load (/v2/keys) against each target in turn, workload by workload, and prints a
        table; with targets named etcd and Platform the table has the ratio Platform/etcd. PID (the server process)
        gives its CPU and resident memory. bench/keys.sh starts both servers and runs this.
        options:
          --workloads LIST   comma-separated, of put,get,memory,fanout (default all)
          --seconds N        measured window of each PUT/GET load (default 10)
          --warmup N         warm-up before it (default 3)
          --put-clients LIST concurrent PUT clients (default 1,64,256)
          --get-clients LIST concurrent GET clients (default 64)
          --watchers LIST    watchers per fan-out (default 1000,10000)
          --rounds N         fan-out rounds per watcher count; the median round is reported (default 11)
          --memory-watchers N idle watchers for the memory reading (default 10000)
          --keys N           keys the PUT and GET loads spread over (default 1000)
          --value-bytes N    size of each value (default 64)
          --settle N         seconds between all watchers registered and the PUT / the RSS reading (default 1)
          --server-warmup N  unrecorded PUT and GET load (N/2 s each) and one fan-out against each server before the
                             first workload (default 10; 0 = none)
          --warmup-fanouts N then N fan-outs to 200 watchers, so that a JIT has compiled what a fan-out runs once per
                             PUT before the rounds (default 100)
          --thread-cpu       print each fan-out round's server CPU by thread name (from /proc/PID/task)
          --quiet-cores X    before each load and each fan-out size, wait until other processes use < X cores for 2 s
                             (default 0.3; 0 = don't wait)
          --quiet-wait N     but no longer than N seconds (default 15)
          --not-durable NAME the target NAME lost an acknowledged write when killed: its PUT numbers are marked
          --commit TEXT      the commit to print (default: git rev-parse --short HEAD)
          --drivers LIST     how fan-out watchers speak HTTP: raw (the driver's raw sockets), httpclient (one .NET
                             HttpClient), or both (default raw,httpclient)
          --fanout-only NAME the target NAME runs only the fan-out (a floor server that stores nothing)
          --quick            smoke test: 2 s windows, 1 s warm-up, 2 rounds, quiet wait 3 s, server warm-up 4 s
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new BenchFailure($"{arg} needs a value");
            switch (arg)
            {
                case "--target": o.Targets.Add(ParseTarget(Next())); break;
                case "--workloads":
                    o.Workloads.Clear();
                    foreach (var w in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        o.Workloads.Add(Array.IndexOf(AllWorkloads, w) >= 0 ? w : throw new BenchFailure($"--workloads: unknown workload '{w}'; expected some of {string.Join(",", AllWorkloads)}"));
                    break;
                case "--seconds": o.Seconds = Positive(arg, Next()); break;
                case "--warmup": o.Warmup = NonNegative(arg, Next()); break;
                case "--put-clients": o.PutClients = Counts(arg, Next()); break;
                case "--get-clients": o.GetClients = Counts(arg, Next()); break;
                case "--watchers": o.Watchers = Counts(arg, Next()); break;
                case "--memory-watchers": o.MemoryWatchers = Counts(arg, Next())[0]; break;
                case "--rounds": o.Rounds = Counts(arg, Next())[0]; break;
                case "--keys": o.Keys = Counts(arg, Next())[0]; break;
                case "--value-bytes": o.ValueBytes = Counts(arg, Next())[0]; break;
                case "--settle": o.SettleSeconds = NonNegative(arg, Next()); break;
                case "--server-warmup": o.ServerWarmupSeconds = NonNegative(arg, Next()); break;
                case "--quiet-cores": o.QuietCores = NonNegative(arg, Next()); break;
                case "--quiet-wait": o.QuietWaitSeconds = NonNegative(arg, Next()); break;
                case "--commit": o.Commit = Next(); break;
                case "--not-durable": o.NotDurable.Add(Next()); break;
                case "--fanout-only": o.FanoutOnly.Add(Next()); break;
                case "--warmup-fanouts": o.WarmupFanouts = (int)NonNegative(arg, Next()); break;
                case "--thread-cpu": o.ThreadCpu = true; break;
                case "--drivers":
                    o.Drivers = [];
                    foreach (var d in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        o.Drivers.Add(d.ToLowerInvariant() switch
                        {
                            "raw" => DriverKind.Raw,
                            "httpclient" => DriverKind.HttpClient,
                            _ => throw new BenchFailure($"--drivers: unknown driver '{d}'; expected raw and/or httpclient"),
                        });
                    if (o.Drivers.Count == 0) throw new BenchFailure("--drivers is empty; expected raw and/or httpclient");
                    break;
                case "--quick":
                    o.Seconds = 2;
                    o.Warmup = 1;
                    o.Rounds = 2;
                    o.QuietWaitSeconds = 3;
                    o.ServerWarmupSeconds = 4;
                    break;
                default: throw new BenchFailure($"unknown argument '{arg}'\n{Usage}");
            }
        }
        if (o.Targets.Count == 0) throw new BenchFailure($"no --target given\n{Usage}");
        return o;
    }

    private static Target ParseTarget(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0) throw new BenchFailure($"--target '{text}': expected NAME=URL[@PID], e.g. etcd=http://127.0.0.1:2379@1234");
        var name = text[..eq];
        var rest = text[(eq + 1)..];
        int? pid = null;
        var at = rest.LastIndexOf('@');
        if (at > 0)
        {
            pid = int.TryParse(rest[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0
                ? p : throw new BenchFailure($"--target '{text}': '{rest[(at + 1)..]}' after @ is not a process id");
            rest = rest[..at];
        }
        if (!Uri.TryCreate(rest, UriKind.Absolute, out var url)) throw new BenchFailure($"--target '{text}': '{rest}' is not an absolute URL");
        return new Target(name, url, pid);
    }

    private static double Positive(string option, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new BenchFailure($"{option} '{value}': expected a number > 0");

    private static double NonNegative(string option, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new BenchFailure($"{option} '{value}': expected a number ≥ 0");

    private static int[] Counts(string option, string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var counts = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out counts[i]) || counts[i] <= 0)
                throw new BenchFailure($"{option} '{value}': expected whole numbers > 0, separated by commas");
        return counts.Length > 0 ? counts : throw new BenchFailure($"{option} is empty");
    }
}
