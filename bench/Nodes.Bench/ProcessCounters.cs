using System.Globalization;

namespace Platform.Nodes.Bench;

/// <summary>
/// A process's CPU time (user + system, from /proc/PID/stat) at one moment: the difference between two readings is a
/// count that a busy machine inflates far less than it inflates wall-clock times.
/// </summary>
public readonly record struct ProcessCounters(double CpuMs)
{
    private const double MsPerTick = 1000.0 / 100; // USER_HZ is 100 on Linux

    /// <summary>Reads the counters of <paramref name="pid"/> ("self" for this process).</summary>
    public static ProcessCounters Read(string pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14 and 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcessCounters(ticks * MsPerTick);
    }

    /// <summary>CPU (ms) of the threads of <paramref name="pid"/> whose name starts with <paramref name="prefix"/> (the runtime names its JIT thread ".NET Tiered Com…").</summary>
    public static double ThreadsCpuMs(string pid, string prefix)
    {
        var ticks = 0L;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        return ticks * MsPerTick;
    }

    public static ProcessCounters operator -(ProcessCounters a, ProcessCounters b) => new(a.CpuMs - b.CpuMs);
}
