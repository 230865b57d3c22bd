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
    public sealed record Window(string Load, int Pages, double Seconds, double SiloCpuMs, int Events);

    /// <summary>Opens <paramref name="count"/> pages on <c>#/{view}</c> and waits until each shows its rows.</summary>
    public async Task<List<IBrowserContext>> OpenAsync(string view, string rowSelector, int expectedRows, int count)
    {
        var contexts = new List<IBrowserContext>();
        for (var i = 0; i < count; i++)
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
            contexts.Add(context);
            var page = await context.NewPageAsync();
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
        var cpu0 = silo.Counters();
        var t0 = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        silo.EnsureAlive();
        return new Window("idle", pages, Stopwatch.GetElapsedTime(t0).TotalSeconds, (silo.Counters() - cpu0).CpuMs, 0);
    }

    /// <summary>
    /// The silo's CPU over <paramref name="seconds"/> while a user event is fired (coalescing off) to every node once a
    /// second, each one waited for until every simulated agent has it.
    /// </summary>
    public async Task<Window> FanOutAsync(int pages, double seconds, string tag)
    {
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
        silo.EnsureAlive();
        return new Window("user event to all nodes, 1/s", pages, Stopwatch.GetElapsedTime(t0).TotalSeconds, (silo.Counters() - cpu0).CpuMs, events);
    }
}
