namespace Platform.Cluster.Bench;

/// <summary>
/// What the machine did during a window, from /proc (Linux only; NaN elsewhere): CPU time of the driver, of the
/// child silo and of everything else, context switches of both silo processes (all threads), and TCP segments sent
/// on the machine (both directions of the loopback connections count; pure ACKs included).
/// </summary>
public readonly record struct MachineSample(long MachineBusy, long MachineTotal, long DriverCpu, long ChildCpu, Dictionary<int, long>? DriverSwitches, Dictionary<int, long>? ChildSwitches, long TcpOutSegments)
{
    public static readonly double ClockTicksPerSecond = 100; // USER_HZ: 100 on Linux

    public static MachineSample Take(int childPid)
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
            var total = cpu.Sum();
            var idle = cpu[3] + cpu[4];
            return new MachineSample(total - idle, total,
                ProcessTicks(Environment.ProcessId), ProcessTicks(childPid),
                ContextSwitches(Environment.ProcessId), ContextSwitches(childPid), TcpOutSegs());
        }
        catch (Exception)
        {
            return new MachineSample(-1, -1, -1, -1, null, null, -1);
        }
    }

    private static long ProcessTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]); // utime, stime
    }

    /// <summary>Context switches (voluntary + involuntary) of each live thread, by thread id.</summary>
    private static Dictionary<int, long> ContextSwitches(int pid)
    {
        var byThread = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                long sum = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        sum += long.Parse(line[(line.IndexOf(':') + 1)..].Trim());
                byThread[int.Parse(Path.GetFileName(task))] = sum;
            }
            catch (IOException) { } // a thread that ended meanwhile
        }
        return byThread;
    }

    /// <summary>Switches between two samples: per thread alive at the end (threads that ended meanwhile are not counted).</summary>
    public static long SwitchesBetween(Dictionary<int, long>? a, Dictionary<int, long>? b)
    {
        if (a is null || b is null) return 0;
        long sum = 0;
        foreach (var (tid, end) in b) sum += end - a.GetValueOrDefault(tid);
        return sum;
    }

    private static long TcpOutSegs()
    {
        var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Tcp:", StringComparison.Ordinal)).ToArray();
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(values[Array.IndexOf(names, "OutSegs")]);
    }
}

/// <summary>The difference of two <see cref="MachineSample"/>s, per second and per operation.</summary>
public readonly record struct MachineUsage(double Seconds, double DriverCores, double ChildCores, double OtherCores, double MachineCores,
    long DriverSwitches, long ChildSwitches, long TcpSegments)
{
    public static MachineUsage Between(MachineSample a, MachineSample b, double seconds)
    {
        if (a.MachineTotal < 0 || b.MachineTotal <= a.MachineTotal) return new(seconds, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0, 0);
        var cores = Environment.ProcessorCount;
        var totalTicks = (double)(b.MachineTotal - a.MachineTotal);
        double Share(long ticks) => cores * ticks / totalTicks; // in cores
        var driver = b.DriverCpu - a.DriverCpu;
        var child = b.ChildCpu - a.ChildCpu;
        var busy = b.MachineBusy - a.MachineBusy;
        return new(seconds, Share(driver), Share(child), Math.Max(0, Share(busy - driver - child)), cores,
            MachineSample.SwitchesBetween(a.DriverSwitches, b.DriverSwitches), MachineSample.SwitchesBetween(a.ChildSwitches, b.ChildSwitches), b.TcpOutSegments - a.TcpOutSegments);
    }
}
