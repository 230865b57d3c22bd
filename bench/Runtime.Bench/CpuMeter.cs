namespace Platform.Runtime.Bench;

/// <summary>
/// CPU used by other processes while a window is measured: all busy time of the machine (/proc/stat)
/// minus this process's (/proc/self/stat) and any PostgreSQL server process's (the storage benchmark's
/// own database), as a percentage of all cores. Linux only; NaN elsewhere.
/// </summary>
public readonly record struct CpuSample(long MachineBusy, long MachineTotal, long Self)
{
    public static CpuSample Take()
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            var total = cpu.Sum();
            var idle = cpu[3] + cpu[4];
            var own = ProcessTicks(File.ReadAllText("/proc/self/stat"));
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!char.IsDigit(Path.GetFileName(dir)[0])) continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    if (stat.Contains("(postgres)", StringComparison.Ordinal)) own += ProcessTicks(stat);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            return new CpuSample(total - idle, total, own);
        }
        catch (Exception)
        {
            return new CpuSample(-1, -1, -1);
        }
    }

    private static long ProcessTicks(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime (fields 14 and 15 of stat)
    }

    /// <summary>Percent of all cores busy in other processes between <paramref name="start"/> and <paramref name="end"/>.</summary>
    public static double OthersPercent(CpuSample start, CpuSample end)
    {
        if (start.MachineTotal < 0 || end.MachineTotal <= start.MachineTotal) return double.NaN;
        var others = (end.MachineBusy - start.MachineBusy) - (end.Self - start.Self);
        // Clock-tick accounting of processes and of the machine is not exact: clamp to the possible range.
        return Math.Clamp(100.0 * others / (end.MachineTotal - start.MachineTotal), 0, 100);
    }
}
