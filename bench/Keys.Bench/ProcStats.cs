namespace Platform.Keys.Bench;

/// <summary>Readings from /proc (Linux): process CPU time, resident memory, open-file limits, machine busy time.</summary>
public static class ProcStats
{
    private const double TicksPerSecond = 100; // USER_HZ

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    /// <summary>utime + stime of the whole process (exited threads included), in seconds; 10 ms resolution.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
    }

    /// <summary>
    /// The run time threads used between two readings of <see cref="ThreadCpuByThread"/>, in seconds, with nanosecond
    /// resolution: for windows of a few milliseconds such as one watch fan-out. Thread by thread: a thread that exits
    /// meanwhile counts nothing (a sum over the live threads would subtract its whole life, and a round came out at
    /// -61 ms); one that starts counts from zero.
    /// </summary>
    public static double ThreadCpuSeconds(Dictionary<int, (string Name, long Ns)> before, Dictionary<int, (string Name, long Ns)> after) =>
        Used(before, after).Sum(t => t.Ns) / 1e9;

    /// <summary>What each thread of <paramref name="after"/> used since <paramref name="before"/> (ns), for those that used any.</summary>
    private static IEnumerable<(string Name, long Ns)> Used(Dictionary<int, (string Name, long Ns)> before, Dictionary<int, (string Name, long Ns)> after)
    {
        foreach (var (tid, (name, ns)) in after)
        {
            var used = ns - (before.TryGetValue(tid, out var b) ? b.Ns : 0);
            if (used > 0) yield return (name, used);
        }
    }

    /// <summary>CPU time (ns) of each thread of <paramref name="pid"/> by id, with the thread's name.</summary>
    public static Dictionary<int, (string Name, long Ns)> ThreadCpuByThread(int pid)
    {
        var threads = new Dictionary<int, (string, long)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                threads[int.Parse(Path.GetFileName(task))] = (File.ReadAllText(Path.Combine(task, "comm")).Trim(), long.Parse(text.AsSpan(0, text.IndexOf(' '))));
            }
            catch (IOException) { } // the thread ended meanwhile
        }
        return threads;
    }

    /// <summary>The CPU threads used between two readings, summed by thread name: "name×threads ms, …", most first.</summary>
    public static string ByName(Dictionary<int, (string Name, long Ns)> before, Dictionary<int, (string Name, long Ns)> after)
    {
        var byName = new Dictionary<string, (double Ms, int Threads)>();
        foreach (var (name, ns) in Used(before, after))
        {
            var sum = byName.GetValueOrDefault(name);
            byName[name] = (sum.Ms + ns / 1e6, sum.Threads + 1);
        }
        return string.Join(", ", byName.OrderByDescending(x => x.Value.Ms).Select(x => $"{x.Key}×{x.Value.Threads} {x.Value.Ms:0.00}"));
    }

    /// <summary>VmRSS of the process in KiB.</summary>
    public static long RssKiB(int pid) => StatusField(pid, "VmRSS:");

    /// <summary>The soft limit of open files of the process ("Max open files").</summary>
    public static long OpenFilesLimit(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/limits"))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
            var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            return soft == "unlimited" ? long.MaxValue : long.Parse(soft);
        }
        return -1;
    }

    private static long StatusField(int pid, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(name, StringComparison.Ordinal))
                return long.Parse(line[name.Length..].Trim().Split(' ')[0]);
        throw new InvalidDataException($"/proc/{pid}/status has no {name}");
    }

    /// <summary>Busy and total CPU time of the whole machine, in seconds summed over cores.</summary>
    public static (double Busy, double Total) Machine()
    {
        var parts = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0, idle = 0;
        for (var i = 1; i <= 8 && i < parts.Length; i++)
        {
            var v = long.Parse(parts[i]);
            total += v;
            if (i is 4 or 5) idle += v; // idle, iowait
        }
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }
}

/// <summary>CPU used during a window by the server, by this driver, and by every other process, in cores (1.0 = one core busy).</summary>
public readonly record struct CpuUse(double Seconds, double ServerCores, double DriverCores, double OtherCores)
{
    public override string ToString() =>
        $"CPU during the window: server {ServerCores:0.00} cores, driver {DriverCores:0.00}, other processes {OtherCores:0.00} (of {Environment.ProcessorCount})";
}

/// <summary>A snapshot of the CPU counters that <see cref="CpuUse"/> is the difference of.</summary>
public readonly record struct CpuSnapshot(long Timestamp, double Server, double Driver, double MachineBusy)
{
    public static CpuSnapshot Take(int? serverPid) => new(
        System.Diagnostics.Stopwatch.GetTimestamp(),
        serverPid is { } pid ? ProcStats.CpuSeconds(pid) : double.NaN,
        ProcStats.CpuSeconds(Environment.ProcessId),
        ProcStats.Machine().Busy);

    public static CpuUse Between(CpuSnapshot a, CpuSnapshot b)
    {
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp).TotalSeconds;
        var server = (b.Server - a.Server) / seconds;
        var driver = (b.Driver - a.Driver) / seconds;
        var machine = (b.MachineBusy - a.MachineBusy) / seconds;
        return new CpuUse(seconds, server, driver, Math.Max(0, machine - driver - (double.IsNaN(server) ? 0 : server)));
    }
}

/// <summary>Waits for the rest of the machine to calm down before a measurement starts.</summary>
public static class QuietMachine
{
    /// <summary>
    /// Waits up to <paramref name="maxWait"/> until processes other than this driver and the server used less than
    /// <paramref name="cores"/> cores for two one-second samples in a row; false if the wait ended without that.
    /// </summary>
    public static async Task<bool> WaitAsync(int? serverPid, double cores, TimeSpan maxWait)
    {
        if (cores <= 0) return true;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var calm = 0;
        while (calm < 2 && System.Diagnostics.Stopwatch.GetElapsedTime(started) < maxWait)
        {
            var a = CpuSnapshot.Take(serverPid);
            await Task.Delay(1000);
            calm = CpuSnapshot.Between(a, CpuSnapshot.Take(serverPid)).OtherCores < cores ? calm + 1 : 0;
        }
        // The time alone does not say: two calm samples take two seconds, as long as a two-second wait.
        return calm >= 2;
    }
}
