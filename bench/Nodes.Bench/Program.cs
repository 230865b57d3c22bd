using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Platform.Nodes.Bench;
using Platform.Protocol;

// Numbers print with the invariant culture: the build sets InvariantGlobalization.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (BenchFailure e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var dir = Path.Combine(Path.GetTempPath(), "platform-nodes-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(dir);
// Interrupted (Ctrl-C, a kill): every silo, agent and serf process started goes too, and the temporary folder.
void Interrupted(PosixSignalContext context)
{
    context.Cancel = true;
    Console.Error.WriteLine($"\nBENCHMARK INTERRUPTED ({context.Signal}): stopping every process it started");
    ChildProcess.KillAll();
    try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    Environment.Exit(130);
}
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);
using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupted);
var report = new Report();
var started = Stopwatch.GetTimestamp();
PrintHeader(options);
try
{
    if (options.Workloads.Contains("simulated"))
        await RunSimulatedAsync(options, dir, report);
    if (options.Workloads.Contains("events") || options.Workloads.Contains("failure"))
        await RunRealAgentsAsync(options, dir, report);
}
catch (BenchFailure e)
{
    Console.Out.Flush();
    Console.Error.WriteLine($"\nBENCHMARK FAILED: {e.Message}");
    Console.WriteLine("\nMeasured before the failure:\n" + report.Render());
    return 1;
}
finally
{
    try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
}

Console.WriteLine($"\nWhole run: {Stopwatch.GetElapsedTime(started).TotalMinutes:0.0} min\n");
Console.WriteLine(report.Render());
return 0;

static async Task RunSimulatedAsync(BenchOptions o, string dir, Report report)
{
    Console.WriteLine($"\n# simulated agents: {string.Join(", ", o.Simulated.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} on one silo, "
        + (o.MemberEvents ? "taking member events (as agents with a member handler)" : "taking no member events (as agents with user and query handlers only)")
        + (o.PingSlices == 1 ? "; every agent pinged at once each heartbeat interval" : $"; each heartbeat interval's pings spread over {o.PingSlices} slices of it")
        + (o.DriverGcInRounds ? "; the driver may collect during rounds" : "; the driver's collections kept out of timed rounds"));
    await using var silo = await SiloHost.StartAsync(o.SiloDll, Path.Combine(dir, "sim-silo"));
    await using var fleet = new SimulatedFleet { MemberEvents = o.MemberEvents, PingSlices = o.PingSlices, QuietDriverGc = !o.DriverGcInRounds };
    try
    {
        await RunSimulatedOnAsync(o, silo, fleet, report);
    }
    catch (BenchFailure e)
    {
        throw new BenchFailure($"{e.Message}\nthe silo's last lines:\n{silo.Tail}");
    }
}

static async Task RunSimulatedOnAsync(BenchOptions o, SiloHost silo, SimulatedFleet fleet, Report report)
{
    var baseline = silo.RssKiB();
    long? firstRss = null;
    var firstCount = 0;
    foreach (var count in o.Simulated)
    {
        var connecting = Stopwatch.GetTimestamp();
        var joins = count - fleet.Count;
        var (siloBefore, driverBefore, bytesBefore) = (silo.Counters(), ProcessCounters.Read("self"), fleet.BytesReceived);
        await fleet.ConnectAsync(silo.Url, joins, TimeSpan.FromMinutes(5));
        var (siloRamp, driverRamp, bytes) = (silo.Counters() - siloBefore, ProcessCounters.Read("self") - driverBefore, fleet.BytesReceived - bytesBefore);
        Console.WriteLine($"  {count:N0} connected after {Stopwatch.GetElapsedTime(connecting).TotalSeconds:0.0} s ({fleet.Retries} attempts retried so far; longest gap between ping rounds {fleet.LongestPingGapMs} ms)");
        report.AddNote("join ramp: CPU and bytes per join", "platform", count,
            $"silo {siloRamp.CpuMs / joins:0.00} ms CPU per join; agents read {bytes / (double)joins / 1024:0.0} KiB per join (welcomes, member events, pongs); driver {driverRamp.CpuMs / joins:0.00} ms CPU per join ({joins:N0} joins)");
        // Warm: events nobody records, then until the JIT has compiled what they and the heartbeats run.
        await SimulatedRuns.WarmUpAsync(silo, fleet, o.WarmUpRounds);
        var jit = await silo.WaitForJitQuietAsync(TimeSpan.FromSeconds(60));
        Console.WriteLine($"  warmed up: {o.WarmUpRounds} events unrecorded, then {jit.TotalSeconds:0.0} s until the JIT thread was quiet");
        // Idle a few heartbeat intervals, then read memory before any recorded event runs on this many.
        var idleFrom = silo.Counters();
        var idleStarted = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idle = silo.Counters() - idleFrom;
        var idleSeconds = Stopwatch.GetElapsedTime(idleStarted).TotalSeconds;
        report.AddNote("idle agents: silo CPU (heartbeats)", "platform", count,
            $"{idle.CpuMs / idleSeconds:0} ms CPU per second ({idle.CpuMs / idleSeconds / 10:0.0} % of one core) for {count * 1000 / AgentProtocol.DefaultHeartbeatInterval.TotalMilliseconds:N0} pings/s");
        var rss = silo.RssKiB();
        report.AddNote("silo RSS, agents connected and idle 5 s", "platform", count,
            $"{rss / 1024.0:0} MiB (before any agent {baseline / 1024.0:0} MiB): {(rss - baseline) / (double)count:0.0} KiB per agent" +
            (firstRss is { } f ? $"; {(rss - f) / (double)(count - firstCount):0.0} KiB per agent beyond the first {firstCount:N0}" : ""));
        firstRss ??= rss;
        if (firstCount == 0) firstCount = count;
        await SimulatedRuns.EventsAsync(silo, fleet, o.Rounds, report, count <= 1000 ? 50 : 500);
        if (o.Workloads.Contains("query") && count == o.Simulated[0]) await SimulatedRuns.QueryAsync(silo, fleet, o.Rounds, report);
        if (o.Workloads.Contains("deploy-dispatch")) await DeployDispatch.RunAsync(silo, fleet, o.Rounds, report, 200);
    }
}

static async Task RunRealAgentsAsync(BenchOptions o, string dir, Report report)
{
    var clusters = new List<IAgentCluster>();
    try
    {
        foreach (var target in o.Targets)
        {
            IAgentCluster cluster = target == "serf" ? new SerfCluster(dir) : new PlatformCluster(dir, o.SiloDll, o.PlatformDll);
            clusters.Add(cluster);
            Console.WriteLine($"\n# starting {o.Agents} {target} agents");
            var t = Stopwatch.GetTimestamp();
            await cluster.StartAsync(o.Agents);
            Console.WriteLine($"  all alive after {Stopwatch.GetElapsedTime(t).TotalSeconds:0.0} s");
            await cluster.Stamps.WaitForJoinsAsync(cluster.Nodes, TimeSpan.FromSeconds(120));
            Console.WriteLine($"  every member-join handler of the start ran after {Stopwatch.GetElapsedTime(t).TotalSeconds:0.0} s");
        }
        if (o.Workloads.Contains("events"))
        {
            Console.WriteLine($"\n# user event fan-out, {o.Rounds} rounds, clusters alternating");
            await EventFanout.RunAsync(clusters, o.Rounds, report);
        }
        if (o.Workloads.Contains("failure"))
        {
            foreach (var cluster in clusters)
            {
                Console.WriteLine($"\n# failure detection, {cluster.Name}, {o.FailureRounds} rounds of kill -9 and of kill -STOP");
                await FailureDetection.RunAsync(cluster, o.FailureRounds, report);
            }
        }
    }
    finally
    {
        foreach (var c in clusters) await c.DisposeAsync();
    }
}

static void PrintHeader(BenchOptions o)
{
    Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; nproc {Environment.ProcessorCount}; load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}");
    Console.WriteLine($"memory: {Run("free", "-h").Split('\n').Skip(1).FirstOrDefault()?.Trim()}");
    Console.WriteLine($"open files limit: {Run("sh", "-c", "ulimit -n").Trim()}; commit {Run("git", "rev-parse", "--short", "HEAD").Trim()}; serf {Run("serf", "version").Split('\n')[0]}");
    Console.WriteLine($"workloads: {string.Join(",", o.Workloads)}; agents {o.Agents} ({string.Join(",", o.Targets)}); simulated {string.Join(",", o.Simulated)}; rounds {o.Rounds}, failure rounds {o.FailureRounds}");
}

static string Run(string file, params string[] args)
{
    try
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "?";
    }
}
