using System.Text.Json;
using Microsoft.Playwright;
using Platform.Nodes.Bench;

namespace Platform.Dashboard.Bench;

/// <summary>
/// Time to first render of a view: a fresh browser context (no cache, as a first visit) opens the view's URL, and a
/// MutationObserver installed before any script of the page records, on the page's clock (0 = navigation start), when
/// the shell marked the view <c>data-ready</c>, when the view's table first held the rows expected, and the frame after
/// that (the rows laid out and painted). They are read once all happened. The API requests that ended by then are kept too, to see where the time went.
/// </summary>
public sealed class RenderTimer(IBrowser browser, string siloUrl)
{
    /// <summary>FirstScreenMs: the frame after the view's table first held a screenful of rows (<see cref="Screenful"/>), painted.</summary>
    public sealed record Run(double ReadyMs, double RowsMs, double PaintedMs, double FirstScreenMs, int Rows, List<(string Url, double StartMs, double EndMs)> Requests);

    /// <summary>Rows that fill the 900-pixel viewport and more: the first screen a person sees.</summary>
    public const int Screenful = 30;

    private const string Observer = """
        (() => {
          const spec = __SPEC__;
          const b = window.__bench = { ready: null, rows: null, painted: null, screen: null, count: 0 };
          const readySelector = `section.view[data-view='${spec.view}'][data-ready]`;
          const rowSelector = `section.view[data-view='${spec.view}'] ${spec.rows}`;
          const check = () => {
            if (b.ready === null && document.querySelector(readySelector)) b.ready = performance.now();
            if (b.rows === null) {
              const n = document.querySelectorAll(rowSelector).length;
              if (b.screenRows === undefined && n >= Math.min(spec.screen, spec.expected)) {
                b.screenRows = n;
                // As for all rows below: a task queued from the frame's animation callback runs once it is painted.
                requestAnimationFrame(() => setTimeout(() => { b.screen = performance.now(); }));
              }
              if (n >= spec.expected) {
                b.rows = performance.now();
                b.count = n;
                // The frame after the rows: its animation callback runs before their style and layout, a task queued
                // from it runs after them, so this is about when they are on the screen.
                requestAnimationFrame(() => setTimeout(() => { b.painted = performance.now(); }));
              }
            }
          };
          new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
        })();
        """;

    /// <summary>Opens <c>#/{view}</c> and waits until at least <paramref name="expectedRows"/> rows matching <paramref name="rowSelector"/> are in the view.</summary>
    public async Task<Run> MeasureAsync(string view, string rowSelector, int expectedRows)
    {
        var spec = JsonSerializer.Serialize(new { view, rows = rowSelector, expected = expectedRows, screen = Screenful });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        await context.AddInitScriptAsync(Observer.Replace("__SPEC__", spec, StringComparison.Ordinal));
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error") errors.Add(m.Text);
        };
        await page.GotoAsync($"{siloUrl}/#/{view}");
        try
        {
            await page.WaitForFunctionAsync("() => window.__bench.ready !== null && window.__bench.painted !== null && window.__bench.screen !== null", null,
                new PageWaitForFunctionOptions { Timeout = 120_000, PollingInterval = 50 });
        }
        catch (TimeoutException)
        {
            var seen = await page.EvaluateAsync<int>($"() => document.querySelectorAll(\"{rowSelector}\").length");
            throw new BenchFailure($"#/{view}: {seen} of {expectedRows} rows after 120 s{(errors.Count == 0 ? "" : "; page errors: " + string.Join("; ", errors))}");
        }
        if (errors.Count != 0) throw new BenchFailure($"#/{view}: page errors: {string.Join("; ", errors)}");
        var result = await page.EvaluateAsync<JsonElement>("""
            () => ({
              ready: window.__bench.ready, rows: window.__bench.rows, painted: window.__bench.painted, screen: window.__bench.screen, count: window.__bench.count,
              requests: performance.getEntriesByType('resource').filter((e) => e.name.includes('/v1/'))
                .map((e) => ({ url: e.name, start: e.startTime, end: e.responseEnd })),
            })
            """);
        var requests = result.GetProperty("requests").EnumerateArray()
            .Select(r => (new Uri(r.GetProperty("url").GetString()!).PathAndQuery, r.GetProperty("start").GetDouble(), r.GetProperty("end").GetDouble()))
            .ToList();
        return new Run(result.GetProperty("ready").GetDouble(), result.GetProperty("rows").GetDouble(), result.GetProperty("painted").GetDouble(), result.GetProperty("screen").GetDouble(), result.GetProperty("count").GetInt32(), requests);
    }
}
