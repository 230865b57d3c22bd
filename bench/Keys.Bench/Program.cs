using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using Platform.Keys.Bench;

// Numbers print with the invariant culture: the build sets InvariantGlobalization.
try
{
    switch (args)
    {
        case ["free-ports", var n]: return FreePorts(int.Parse(n, CultureInfo.InvariantCulture));
        case ["put-key", var url, var key, var value]: return await KeyProbe.PutAsync(url, key, value);
        case ["get-key", var url, var key]: return await KeyProbe.GetAsync(url, key);
    }
}
catch (BenchFailure e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
if (args is [] or ["--help" or "-h"])
{
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

try
{
    var options = BenchOptions.Parse(args);
    var names = options.Targets.Select(t => t.Name).ToList();
    PrintHeader(options);
    foreach (var t in options.Targets) await t.WaitReadyAsync(TimeSpan.FromSeconds(60));
    foreach (var t in options.Targets) Console.WriteLine($"{t.Name}: {t.Url} pid {t.Pid?.ToString(CultureInfo.InvariantCulture) ?? "?"}, /version: {await t.VersionAsync() ?? "(none)"}");
    CheckOpenFiles(options);
    WarnNotDurable(options);
    Console.WriteLine();

    var table = new ResultTable(names);
    var workloads = new Workloads(options, table);
    // Workload by workload, each target in turn, so that both see the same history and similar machine noise.
    // Memory comes before the fan-out: a server that has already held 10,000 connections keeps much of that memory.
    // The fan-out interleaves its rounds over the targets instead (Workloads.FanoutAsync).
    var steps = new (string Name, Func<Target, Task> Run)[]
    {
        ("put", workloads.PutAsync), ("get", workloads.GetAsync), ("memory", workloads.MemoryAsync),
    };
    foreach (var t in options.Targets) await workloads.WarmUpAsync(t);
    foreach (var (name, run) in steps)
    {
        if (!options.Workloads.Contains(name)) continue;
        foreach (var t in options.Targets)
        {
            if (options.FanoutOnly.Contains(t.Name)) continue;
            t.EnsureAlive();
            await run(t);
        }
    }
    if (options.Workloads.Contains("fanout")) await workloads.FanoutAsync(options.Targets);

    Console.WriteLine();
    Console.WriteLine(ResultTable.Subject(names) is { } subject
        ? $"Ratios: {subject} divided by each other target; the 'better' column says which direction of the metric is better."
        : "Results:");
    Console.WriteLine(table.Render());
    WarnNotDurable(options);
    return 0;
}
catch (BenchFailure e)
{
    Console.Out.Flush();
    Console.Error.WriteLine();
    Console.Error.WriteLine($"BENCHMARK FAILED: {e.Message}");
    return 1;
}

static void PrintHeader(BenchOptions o)
{
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}, {MemoryGiB()}, kernel {Environment.OSVersion.Version}");
    Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} (1/5/15 min)");
    Console.WriteLine($"commit: {o.Commit ?? Git("rev-parse --short HEAD") ?? "?"}");
    var inline = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
    Console.WriteLine($"driver: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, GC {(GCSettings.IsServerGC ? "Server" : "Workstation")}, " +
                      $"socket completions {(inline ? "inline on the epoll threads" : "on the thread pool")}, raw-socket HTTP/1.1 client; " +
                      $"fan-out watchers over {string.Join(" and ", o.Drivers.Select(d => d == DriverKind.Raw ? "raw sockets" : "one HttpClient (SocketsHttpHandler)"))}");
    Console.WriteLine($"workloads: {string.Join(",", BenchOptions.AllWorkloads.Where(o.Workloads.Contains))}; PUT/GET windows {o.Seconds:0.#} s after {o.Warmup:0.#} s warm-up over {o.Keys:N0} keys, " +
                      $"{o.ValueBytes}-byte values; fan-out {string.Join(" and ", o.Watchers.Select(w => w.ToString("N0", CultureInfo.InvariantCulture)))} watchers × {o.Rounds} rounds (median round); " +
                      $"memory with {o.MemoryWatchers:N0} idle watchers; {o.ServerWarmupSeconds:0.#} s of unrecorded load against each server first");
}

static void WarnNotDurable(BenchOptions o)
{
    foreach (var name in o.NotDurable)
        Console.WriteLine($"WARNING: {name} lost an acknowledged PUT when it was killed (SIGKILL) and restarted on the same data directory: " +
                          $"its PUT numbers are for writes that are not durable when acknowledged, and do not compare with fsynced ones.");
}

static string CpuModel()
{
    foreach (var line in File.ReadLines("/proc/cpuinfo"))
        if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
    return "?";
}

static string MemoryGiB()
{
    var kb = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    return $"{long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB RAM";
}

static string? Git(string arguments)
{
    try
    {
        using var p = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode == 0 ? text : null;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return null;
    }
}

// Each watcher is a socket in this process and in the server: both need the open-file limit for the largest count
// (the fan-out keeps every target's watchers connected at once only where the limit allows: Workloads.FanoutAsync).
static void CheckOpenFiles(BenchOptions o)
{
    var needed = 0;
    if (o.Workloads.Contains("fanout")) needed = o.Watchers.Max();
    if (o.Workloads.Contains("memory")) needed = Math.Max(needed, o.MemoryWatchers);
    if (needed == 0) return;
    needed += 500; // the other connections, the server's files, the runtime's own descriptors
    var pids = new List<(string Who, int Pid)> { ("this driver", Environment.ProcessId) };
    foreach (var t in o.Targets)
        if (t.Pid is { } pid) pids.Add(($"{t.Name} (pid {pid})", pid));
    foreach (var (who, pid) in pids)
    {
        var limit = ProcStats.OpenFilesLimit(pid);
        Console.WriteLine($"open-file limit of {who}: {(limit == long.MaxValue ? "unlimited" : limit.ToString("N0", CultureInfo.InvariantCulture))}");
        if (limit < needed)
            throw new BenchFailure($"{who} may open only {limit:N0} files; {needed:N0} are needed for {needed - 500:N0} watchers. Raise it (ulimit -n) before starting it.");
    }
}

// Binds them all before releasing any, so that the ports differ.
static int FreePorts(int count)
{
    var sockets = new List<Socket>();
    try
    {
        for (var i = 0; i < count; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(s);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Console.WriteLine(((IPEndPoint)s.LocalEndPoint!).Port);
        }
    }
    finally
    {
        foreach (var s in sockets) s.Dispose();
    }
    return 0;
}
