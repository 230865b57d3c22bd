using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Platform.Cluster.Bench;

public static class Machine
{
    public static string Cpu()
    {
        try { return File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("model name")).Split(':', 2)[1].Trim(); } catch (Exception) { return "?"; }
    }

    public static string Memory()
    {
        try
        {
            var kb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            return $"{kb / 1024.0 / 1024.0:0.0} GiB";
        }
        catch (Exception) { return "?"; }
    }

    public static string Os()
    {
        try { return File.ReadLines("/etc/os-release").First(l => l.StartsWith("PRETTY_NAME=")).Split('=', 2)[1].Trim('"') + $" (kernel {Environment.OSVersion.Version})"; }
        catch (Exception) { return RuntimeInformation.OSDescription; }
    }

    public static string LoadAverage()
    {
        try { return "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1/5/15 min)"; }
        catch (IOException) { return ""; }
    }

    public static string Summary() => $"{Environment.ProcessorCount} logical CPUs, {Cpu()}, {Memory()} RAM, {Os()}";

    public static string Runtime()
    {
        ThreadPool.GetMinThreads(out var minWorkers, out _);
        return $"{RuntimeInformation.FrameworkDescription}, {(IsOptimized() ? "Release" : "DEBUG BUILD (numbers meaningless)")}{(Debugger.IsAttached ? ", DEBUGGER" : "")}, " +
               $"GC {(GCSettings.IsServerGC ? "Server" : "Workstation")}/{GCSettings.LatencyMode}, ThreadPool min workers {minWorkers}";
    }

    private static bool IsOptimized()
    {
        var a = typeof(Machine).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().FirstOrDefault();
        return a is null || !a.IsJITOptimizerDisabled;
    }
}
