using System.Globalization;

namespace Platform.Nodes.Bench;

/// <summary>Command-line options of the nodes bench; every one has a default that runs in bounded time on 2 cores.</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        usage: Platform.Nodes.Bench [options]
          --workloads LIST     simulated,query,deploy-dispatch,events,failure (default all)
          --agents N           real agents per target for events and failure (default 50)
          --targets LIST       serf,platform (default both)
          --simulated LIST     simulated agent counts, ascending (default 1000,10000)
          --rounds N           events per measurement (default 10)
          --warmup-rounds N    simulated: unrecorded events before the measurements at each count, after which the
                               driver also waits for the silo's JIT thread to go quiet (default 20)
          --member-events      simulated agents ask for member events, as an agent with a member handler does
                               (default: they do not, as an agent whose handlers are all user or query ones)
          --ping-slices N      simulated: each heartbeat interval pings the agents in N slices spread over it, as
                               agents whose timers started at different moments do (default 20; 1: all at once)
          --driver-gc-in-rounds
                               simulated: let the driver collect its heap during timed rounds too (default: a
                               no-GC region per round, its collection made before the round starts)
          --failure-rounds N   rounds of kill -9 and of kill -STOP each (default 10)
          --silo PATH          Platform.Silo.dll (default src/Silo/bin/Release/net10.0/Platform.Silo.dll)
          --platform PATH      platform.dll (default src/Cli/bin/Release/net10.0/platform.dll)
        """;

    public HashSet<string> Workloads { get; private set; } = ["simulated", "query", "deploy-dispatch", "events", "failure"];
    public int Agents { get; private set; } = 50;
    public List<string> Targets { get; private set; } = ["serf", "platform"];
    public List<int> Simulated { get; private set; } = [1000, 10000];
    public int Rounds { get; private set; } = 10;
    public int WarmUpRounds { get; private set; } = 20;
    public bool MemberEvents { get; private set; }
    public int PingSlices { get; private set; } = 20;
    public bool DriverGcInRounds { get; private set; }
    public int FailureRounds { get; private set; } = 10;
    public string SiloDll { get; private set; } = "";
    public string PlatformDll { get; private set; } = "";

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        var root = RepositoryRoot();
        o.SiloDll = Path.Combine(root, "src/Silo/bin/Release/net10.0/Platform.Silo.dll");
        o.PlatformDll = Path.Combine(root, "src/Cli/bin/Release/net10.0/platform.dll");
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new BenchFailure($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--workloads": o.Workloads = [.. List(Value(), "--workloads", ["simulated", "query", "deploy-dispatch", "events", "failure"])]; break;
                case "--agents": o.Agents = Int(Value(), "--agents", 2); break;
                case "--targets": o.Targets = List(Value(), "--targets", ["serf", "platform"]); break;
                case "--simulated": o.Simulated = [.. Value().Split(',').Select(v => Int(v, "--simulated", 1)).Order()]; break;
                case "--rounds": o.Rounds = Int(Value(), "--rounds", 1); break;
                case "--warmup-rounds": o.WarmUpRounds = Int(Value(), "--warmup-rounds", 0); break;
                case "--member-events": o.MemberEvents = true; break;
                case "--ping-slices": o.PingSlices = Int(Value(), "--ping-slices", 1); break;
                case "--driver-gc-in-rounds": o.DriverGcInRounds = true; break;
                case "--failure-rounds": o.FailureRounds = Int(Value(), "--failure-rounds", 1); break;
                case "--silo": o.SiloDll = Path.GetFullPath(Value()); break;
                case "--platform": o.PlatformDll = Path.GetFullPath(Value()); break;
                case "--help" or "-h":
                    Console.WriteLine(Usage);
                    Environment.Exit(0);
                    break;
                default: throw new BenchFailure($"unknown option '{args[i]}'");
            }
        }
        return o;
    }

    private static List<string> List(string value, string option, string[] allowed)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var item in items)
            if (!allowed.Contains(item)) throw new BenchFailure($"{option} '{item}': expected one of {string.Join(", ", allowed)}");
        return items;
    }

    private static int Int(string value, string option, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new BenchFailure($"{option} '{value}': expected an integer of at least {min}");

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Platform.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}
