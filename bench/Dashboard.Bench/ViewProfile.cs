using System.Text.Json;
using Microsoft.Playwright;

namespace Platform.Dashboard.Bench;

/// <summary>
/// Where a view's first render spends the page's time: the page is opened on another view, Chromium's sampling
/// profiler (DevTools protocol) is started, the hash changes to the view and the profile is taken once its rows are in.
/// Self time is summed per function (and per V8 category such as "(garbage collector)", "(program)": the rest of the
/// renderer's main thread). The profiler samples the wall clock, so on a busy machine "(program)" also holds the time
/// the thread waited for a core; the renderer's own durations of script, style and layout (DevTools' Performance
/// metrics, before and after) say what its work was.
/// </summary>
public static class ViewProfile
{
    private static readonly string[] s_metrics = ["TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "RecalcStyleCount", "LayoutCount", "Nodes"];

    private static async Task<Dictionary<string, double>> MetricsAsync(ICDPSession cdp)
    {
        var answer = await cdp.SendAsync("Performance.getMetrics") ?? throw new InvalidOperationException("Performance.getMetrics answered nothing");
        return answer.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("value").GetDouble());
    }

    /// <summary>The renderer's work between two metric readings: durations in ms, counts as they are.</summary>
    private static List<(string Function, double SelfMs)> Work(Dictionary<string, double> before, Dictionary<string, double> after)
        => [.. s_metrics.Where(after.ContainsKey).Select(m => ($"[metric] {m}{(m.EndsWith("Duration", StringComparison.Ordinal) ? " (ms)" : "")}",
            (after[m] - before.GetValueOrDefault(m)) * (m.EndsWith("Duration", StringComparison.Ordinal) ? 1000 : 1)))];

    public static async Task<List<(string Function, double SelfMs)>> TakeAsync(IBrowser browser, string siloUrl, string view, string rowSelector, int expectedRows)
    {
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{siloUrl}/#/rules");
        await page.WaitForSelectorAsync("section.view[data-view='rules'][data-ready]");
        var cdp = await context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Profiler.enable");
        await cdp.SendAsync("Profiler.setSamplingInterval", new Dictionary<string, object> { ["interval"] = 100 });
        await cdp.SendAsync("Performance.enable");
        var before = await MetricsAsync(cdp);
        await cdp.SendAsync("Profiler.start");
        await page.EvaluateAsync($"() => {{ window.location.hash = '#/{view}'; }}");
        await page.WaitForFunctionAsync($"() => document.querySelectorAll(\"section.view[data-view='{view}'] {rowSelector}\").length >= {expectedRows}", null,
            new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 20 });
        var after = await MetricsAsync(cdp);
        var stopped = await cdp.SendAsync("Profiler.stop") ?? throw new InvalidOperationException("Profiler.stop answered nothing");
        var profile = stopped.GetProperty("profile");
        var names = new Dictionary<int, string>();
        foreach (var node in profile.GetProperty("nodes").EnumerateArray())
        {
            var frame = node.GetProperty("callFrame");
            var function = frame.GetProperty("functionName").GetString();
            var url = frame.GetProperty("url").GetString() ?? "";
            var file = url.Length == 0 ? "" : " " + url[(url.LastIndexOf('/') + 1)..] + ":" + (frame.GetProperty("lineNumber").GetInt32() + 1);
            names[node.GetProperty("id").GetInt32()] = (string.IsNullOrEmpty(function) ? "(anonymous)" : function) + file;
        }
        // Each sample's time is the delta that follows it.
        var samples = profile.GetProperty("samples").EnumerateArray().Select(s => s.GetInt32()).ToArray();
        var deltas = profile.GetProperty("timeDeltas").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var self = new Dictionary<string, double>();
        for (var i = 0; i < samples.Length; i++)
        {
            var us = i + 1 < deltas.Length ? deltas[i + 1] : 0;
            var name = names[samples[i]];
            self[name] = self.GetValueOrDefault(name) + us / 1000.0;
        }
        return [.. Work(before, after), .. self.Select(kv => (kv.Key, kv.Value)).OrderByDescending(x => x.Value)];
    }
}
