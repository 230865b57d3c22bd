using System.Globalization;

namespace Platform.Dashboard.Bench;

/// <summary>The run's numbers as a markdown block for BENCHMARKS.md, with the machine and its load.</summary>
public static class Report
{
    public static void Print(DashboardOptions options, string browserVersion, string loadBefore, BuildHistory.Result? history,
        List<(string Label, List<RenderTimer.Run> Runs)> renders, List<DashboardCpu.Window> windows)
    {
        Console.WriteLine();
        Console.WriteLine($"machine: {Machine()}; Chromium {browserVersion} headless");
        Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; load average before the run {loadBefore}, after {LoadAverage()}");
        Console.WriteLine($"command: bench/dashboard.sh --nodes {options.Nodes} --builds {options.Builds} --runs {options.Runs} --pages {options.Pages} --seconds {options.Seconds} --repeats {options.Repeats}{(options.Profile ? " --profile" : "")}");
        if (history is not null)
            Console.WriteLine($"builds created: {history.Builds} over {history.Repositories} repositories in {history.Took.TotalSeconds:0} s "
                + $"({history.Builds / history.Took.TotalSeconds:0.0} builds/s), silo CPU {history.SiloCpuMs / history.Builds:0.00} ms per build");
        Console.WriteLine();
        Console.WriteLine($"| view | runs | data-ready median / max | first screen ({RenderTimer.Screenful} rows) painted median / max | all rows in the DOM median / max | all rows painted median / max | goal < 1 s (first screen painted) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (label, runs) in renders)
        {
            var ready = runs.Select(r => r.ReadyMs).Order().ToList();
            var rows = runs.Select(r => r.RowsMs).Order().ToList();
            var painted = runs.Select(r => r.PaintedMs).Order().ToList();
            var screen = runs.Select(r => r.FirstScreenMs).Order().ToList();
            Console.WriteLine($"| {label} | {runs.Count} | {Median(ready):0} / {ready[^1]:0} ms | {Median(screen):0} / {screen[^1]:0} ms | {Median(rows):0} / {rows[^1]:0} ms | {Median(painted):0} / {painted[^1]:0} ms | {(screen[^1] < 1000 ? "met" : Median(screen) < 1000 ? "median met, max missed" : "missed")} |");
        }
        if (windows.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine("| silo load | open nodes views | window | silo CPU | silo CPU per second | check-state answers to the pages |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var w in windows)
            Console.WriteLine($"| {w.Load}{(w.Events > 0 ? $" ({w.Events} events)" : "")} | {w.Pages} | {w.Seconds:0.0} s | {w.SiloCpuMs:0} ms | {w.SiloCpuMs / w.Seconds:0.0} ms/s | {w.PageReads} |");
        Console.WriteLine();
        foreach (var load in windows.Select(w => w.Load).Distinct())
        {
            // Summed over the rounds: CPU with the pages minus CPU without, per page and per second.
            var none = windows.Where(w => w.Load == load && w.Pages == 0).ToList();
            var some = windows.Where(w => w.Load == load && w.Pages > 0).ToList();
            var perPage = (some.Sum(w => w.SiloCpuMs) / some.Sum(w => w.Seconds) - none.Sum(w => w.SiloCpuMs) / none.Sum(w => w.Seconds)) / some[0].Pages;
            Console.WriteLine($"silo CPU per open nodes view, {load}: {perPage:0.0} ms per second ({perPage / 10:0.00}% of one core), over {some.Count} round(s)");
        }
    }

    private static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKiB = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return $"{Environment.ProcessorCount} CPUs ({model}), {long.Parse(memKiB, CultureInfo.InvariantCulture) / 1024 / 1024.0:0.0} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
