using System.Diagnostics;
using Microsoft.Playwright;
using Platform.Nodes.Bench;

namespace Platform.Dashboard.Bench;

/// <summary>
/// The silo's CPU per open dashboard: the silo's CPU time (/proc) over the same length of time with no page open and
/// with N pages open on a view (each in a browser context of its own, so each has its own connections as separate
/// users' tabs do), idle and while user events fan out to every node; the difference divided by N and by the seconds.
/// </summary>
public sealed class DashboardCpu(IBrowser browser, SiloHost silo, SimulatedFleet fleet)
{
    public sealed record Window(string Load, int Pages, double Seconds, double SiloCpuMs, int Events, int PageReads = 0);

    private readonly List<IPage> _pages = [];

    /// <summary>Answers of the nodes view's blocking query on check states (/v1/health/state/any) all open pages had so far.</summary>
    private async Task<int> PageReadsAsync()
    {
        var n = 0;
        foreach (var page in _pages)
            n += await page.EvaluateAsync<int>("() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/health/state/any')).length");
        return n;
    }

    public async Task CloseAsync(List<IBrowserContext> contexts)
    {
        _pages.Clear();
        foreach (var context in contexts) await context.DisposeAsync();
    }

    /// <summary>Opens <paramref name="count"/> pages on <c>#/{view}</c> and waits until each shows its rows.</summary>
    public async Task<List<IBrowserContext>> OpenAsync(string view, string rowSelector, int expectedRows, int count)
    {
        var contexts = new List<IBrowserContext>();
        for (var i = 0; i < count; i++)
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
            contexts.Add(context);
            var page = await context.NewPageAsync();
            _pages.Add(page);
            // Resource timings count the page's reads during a window; the default buffer holds 250.
            await context.AddInitScriptAsync("performance.setResourceTimingBufferSize(100000)");
            await page.GotoAsync($"{silo.Url}/#/{view}");
            await page.WaitForSelectorAsync($"section.view[data-view='{view}'][data-ready]", new PageWaitForSelectorOptions { Timeout = 120_000 });
            await page.WaitForFunctionAsync($"() => document.querySelectorAll(\"section.view {rowSelector}\").length >= {expectedRows}", null,
                new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 100 });
        }
        return contexts;
    }

    /// <summary>The silo's CPU over <paramref name="seconds"/> with nothing asked of it.</summary>
    public async Task<Window> IdleAsync(int pages, double seconds)
    {
        var reads = await PageReadsAsync();
        var cpu0 = silo.Counters();
        var t0 = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var cpu = (silo.Counters() - cpu0).CpuMs;
        var took = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        silo.EnsureAlive();
        return new Window("idle", pages, took, cpu, 0, await PageReadsAsync() - reads);
    }

    /// <summary>
    /// The silo's CPU over <paramref name="seconds"/> while a user event is fired (coalescing off) to every node once a
    /// second, each one waited for until every simulated agent has it.
    /// </summary>
    public async Task<Window> FanOutAsync(int pages, double seconds, string tag)
    {
        var reads = await PageReadsAsync();
        var cpu0 = silo.Counters();
        var t0 = Stopwatch.GetTimestamp();
        var events = 0;
        while (Stopwatch.GetElapsedTime(t0).TotalSeconds < seconds)
        {
            var round = Stopwatch.GetTimestamp();
            var name = $"bench-{tag}-{pages}-{events}";
            var all = fleet.Arm(name);
            await silo.FireEventAsync(name);
            if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30))) != all)
                throw new BenchFailure($"user event {name} reached {fleet.Arrived} of {fleet.Count} nodes in 30 s");
            events++;
            var rest = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(round);
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
        }
        var cpu = (silo.Counters() - cpu0).CpuMs;
        var took = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        silo.EnsureAlive();
        return new Window("user event to all nodes, 1/s", pages, took, cpu, events, await PageReadsAsync() - reads);
    }
}
