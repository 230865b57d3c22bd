using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using Platform.Dashboard.Bench;
using Platform.Nodes.Bench;

// The dashboard against a real silo with a real fleet's worth of data: time to first render of the nodes view with
// N connected nodes and of the builds view with M finished builds, then the silo's CPU per open dashboard.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var options = DashboardOptions.Parse(args);
if (options is null) return 2;
if (!File.Exists(DashboardOptions.Chromium)) throw new BenchFailure($"{DashboardOptions.Chromium} is missing: install Debian's chromium package");

Console.CancelKeyPress += (_, _) => ChildProcess.KillAll();
var loadBefore = Report.LoadAverage();
var dataDir = Directory.CreateTempSubdirectory("dashboard-bench-");
try
{
    await using var silo = await SiloHost.StartAsync(options.SiloDll, dataDir.FullName);
    Console.WriteLine($"silo pid {silo.Pid} at {silo.Url}");
    await using var fleet = new SimulatedFleet();
    var t = Stopwatch.GetTimestamp();
    await fleet.ConnectAsync(silo.Url, options.Nodes, TimeSpan.FromMinutes(5));
    await silo.WaitAliveCountAsync(options.Nodes, TimeSpan.FromMinutes(2));
    Console.WriteLine($"{options.Nodes} simulated nodes alive in {Stopwatch.GetElapsedTime(t).TotalSeconds:0.0} s");

    BuildHistory.Result? history = null;
    if (options.Builds > 0)
    {
        await using var agent = new BuildAgent("builder", options.InFlight);
        await agent.ConnectAsync(silo.Url);
        history = await BuildHistory.CreateAsync(silo, agent, options.Builds, options.InFlight, Console.WriteLine);
        Console.WriteLine($"{history.Builds} builds over {history.Repositories} repositories in {history.Took.TotalSeconds:0} s "
            + $"({history.Builds / history.Took.TotalSeconds:0} builds/s, silo CPU {history.SiloCpuMs / history.Builds:0.0} ms per build)");
    }
    // The builder, gone, is still listed: the rows the nodes view must show are what the API lists.
    var nodesListed = await CountAsync(silo, "/v1/nodes");

    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = DashboardOptions.Chromium,
        Headless = true,
        // Run as root, where Chromium's sandbox cannot start.
        Args = ["--no-sandbox"],
    });
    var timer = new RenderTimer(browser, silo.Url);
    var views = new List<(string Label, string View, string Rows, int Expected)> { ($"nodes, {nodesListed} nodes", "nodes", "tr[data-node]", nodesListed) };
    if (options.Builds > 0) views.Add(($"builds, {options.Builds} builds", "builds", "tr[data-build]", Math.Min(50, options.Builds)));
    var renders = new List<(string Label, List<RenderTimer.Run> Runs)>();
    foreach (var (label, view, rows, expected) in views)
    {
        // One unrecorded run: the silo's first call of each endpoint (JIT, grain activations) is not what is timed.
        await timer.MeasureAsync(view, rows, expected);
        var runs = new List<RenderTimer.Run>();
        for (var i = 0; i < options.Runs; i++)
        {
            var run = await timer.MeasureAsync(view, rows, expected);
            runs.Add(run);
            Console.WriteLine($"#/{view} run {i + 1}: data-ready {run.ReadyMs:0} ms, first screen painted {run.FirstScreenMs:0} ms, {run.Rows} rows {run.RowsMs:0} ms, painted {run.PaintedMs:0} ms; "
                + string.Join(", ", run.Requests.Select(r => $"{r.Url} {r.StartMs:0}-{r.EndMs:0}")));
        }
        renders.Add((label, runs));
    }

    var cpu = new DashboardCpu(browser, silo, fleet);
    var windows = new List<DashboardCpu.Window>();
    // Without and with the pages, in turns, so that a change of the machine's load during the run hits both alike.
    for (var repeat = 0; options.Pages > 0 && repeat < options.Repeats; repeat++)
    {
        var some = new List<DashboardCpu.Window>
        {
            await cpu.IdleAsync(0, options.Seconds),
            await cpu.FanOutAsync(0, options.Seconds, $"{repeat}a"),
        };
        var contexts = await cpu.OpenAsync("nodes", "tr[data-node]", nodesListed, options.Pages);
        // The pages' first reads are over before the window starts.
        await Task.Delay(TimeSpan.FromSeconds(2));
        some.Add(await cpu.IdleAsync(options.Pages, options.Seconds));
        some.Add(await cpu.FanOutAsync(options.Pages, options.Seconds, $"{repeat}b"));
        await cpu.CloseAsync(contexts);
        foreach (var w in some) Console.WriteLine($"{w.Load}, {w.Pages} pages: silo CPU {w.SiloCpuMs:0} ms in {w.Seconds:0.0} s ({w.Events} events, {w.PageReads} check-state answers to the pages)");
        windows.AddRange(some);
    }

    if (options.Profile)
    {
        foreach (var (label, view, rows, expected) in views)
        {
            var profile = await ViewProfile.TakeAsync(browser, silo.Url, view, rows, expected);
            Console.WriteLine($"\nprofile of #/{view} from the hash change to its rows, {profile.Where(p => !p.Function.StartsWith('[')).Sum(p => p.SelfMs):0} ms sampled; self time:");
            foreach (var (function, ms) in profile.Take(27)) Console.WriteLine($"  {ms,9:0.0}  {function}");
        }
    }

    Report.Print(options, browser.Version, loadBefore, history, renders, windows);
    return 0;
}
catch (BenchFailure e)
{
    Console.Error.WriteLine($"dashboard bench failed: {e.Message}");
    ChildProcess.KillAll();
    return 1;
}
finally
{
    try
    {
        dataDir.Delete(recursive: true);
    }
    catch (IOException)
    {
    }
}

static async Task<int> CountAsync(SiloHost silo, string path)
{
    using var response = await silo.Http.GetAsync(path);
    if (!response.IsSuccessStatusCode) throw new BenchFailure($"GET {path} answered {(int)response.StatusCode}");
    using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
    return json.RootElement.GetArrayLength();
}
