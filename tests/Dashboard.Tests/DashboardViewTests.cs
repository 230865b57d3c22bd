using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Playwright;
using Platform.Dashboard.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Dashboard.Tests;

/// <summary>
/// Each view in headless Chromium against a real silo with real agents: it loads with no console error, and what it
/// shows live (failures, watches) arrives on the open page without a reload.
/// </summary>
public sealed class DashboardViewTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private DashboardFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task Cluster_view_shows_the_silo_and_grain_types_and_charts_with_no_console_error()
    {
        await Fleet.StartAgentAsync("cluster-1");
        await using var page = await fixture.OpenAsync("cluster", "cluster");
        await page.Page.WaitForSelectorAsync("tr[data-silo] .badge-Active");
        // Two samples make the first point of the rate charts.
        await page.Page.WaitForSelectorAsync(".spark-line[points*=',']");
        Assert.True(await page.Page.Locator("text=node").CountAsync() > 0, "no grain type named node* is listed");
        await page.ScreenshotAsync("cluster");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Nodes_view_lists_nodes_with_their_tags_and_filters_them_with_no_console_error()
    {
        await Fleet.StartAgentAsync("list-web-1", new() { ["role"] = "web" });
        await Fleet.StartAgentAsync("list-db-1", new() { ["role"] = "db" });
        await using var page = await fixture.OpenAsync("nodes", "nodes");
        await page.Page.WaitForSelectorAsync("tr[data-node='list-web-1'][data-status='alive']");
        await page.Page.WaitForSelectorAsync("tr[data-node='list-db-1'] .tag:text('role=db')");
        await page.ScreenshotAsync("nodes");

        await page.Page.FillAsync("input[name='tag']", "role=web");
        await page.Page.ClickAsync("form button[type='submit']");
        await page.WaitForViewAsync("nodes");
        await page.Page.WaitForSelectorAsync("tr[data-node='list-web-1']");
        Assert.Equal(0, await page.Page.Locator("tr[data-node='list-db-1']").CountAsync());
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_node_killed_with_kill_9_turns_failed_on_the_open_page_without_a_reload()
    {
        var victim = await Fleet.StartAgentAsync("kill-me-1");
        await using var page = await fixture.OpenAsync("nodes", "nodes");
        await page.Page.WaitForSelectorAsync("tr[data-node='kill-me-1'][data-status='alive']");
        // A mark on the page's window: a reload would lose it.
        await page.Page.EvaluateAsync("() => { window.notReloaded = true; }");

        var clock = Stopwatch.StartNew();
        await victim.KillAsync();
        await page.Page.WaitForSelectorAsync("tr.failed[data-node='kill-me-1'][data-status='failed']");
        var shown = clock.Elapsed;
        output.WriteLine($"kill -9 to the failed row on the open page: {shown.TotalMilliseconds:0} ms");

        Assert.True(await page.Page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        Assert.Equal("failed", await Fleet.StatusAsync("kill-me-1"));
        await page.ScreenshotAsync("nodes-failed");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Node_page_shows_the_node_its_checks_and_events_with_no_console_error()
    {
        await Fleet.StartAgentAsync("page-1", new() { ["role"] = "api" });
        await using var page = await fixture.OpenAsync("nodes/page-1", "node");
        await page.Page.WaitForSelectorAsync("dd[data-status='alive']");
        await page.Page.WaitForSelectorAsync("tr[data-check='serfHealth']");
        await page.Page.WaitForSelectorAsync(".tag:text('role=api')");
        // Its join, kept by the node, and a tag change made while the page is open, pushed.
        await page.Page.WaitForSelectorAsync("tr[data-event='member-join'][data-status='alive']");
        using (var tagged = await Fleet.Http.PutAsJsonAsync("/v1/nodes/page-1/tags", new { set = new Dictionary<string, string> { ["tier"] = "gold" } }))
            Assert.True(tagged.IsSuccessStatusCode, await tagged.Content.ReadAsStringAsync());
        await page.Page.WaitForSelectorAsync("tr[data-event='member-update'] .tag:text('tier=gold')");
        await page.ScreenshotAsync("node");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task An_event_fired_from_the_page_runs_a_real_agents_handler()
    {
        await Fleet.StartAgentAsync("fire-1");
        await using var page = await fixture.OpenAsync("events", "events");
        var form = page.Page.Locator("form[data-form='fire']");
        await form.Locator("input[name='name']").FillAsync("dash-deploy");
        await form.Locator("input[name='payload']").FillAsync("v42");
        await form.Locator("button[type='submit']").ClickAsync();
        await page.Page.WaitForSelectorAsync(".note[data-fired]");

        await Fleet.UntilAsync(() => Task.FromResult(Fleet.Events("fire-1").Contains("user dash-deploy v42")), "the handler of fire-1 running for dash-deploy");
        // The history follows the monitor: the fired event is listed without a reload.
        await page.Page.WaitForSelectorAsync("tr[data-event='dash-deploy']");
        await page.ScreenshotAsync("events");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_query_from_the_page_shows_the_acks_and_responses_of_real_agents()
    {
        await Fleet.StartAgentAsync("query-1");
        await using var page = await fixture.OpenAsync("events", "events");
        var form = page.Page.Locator("form[data-form='query']");
        await form.Locator("input[name='name']").FillAsync("ping");
        await form.Locator("input[name='node']").FillAsync("query-1");
        await form.Locator("input[name='timeout']").FillAsync("10s");
        await form.Locator("button[type='submit']").ClickAsync();
        await page.Page.WaitForSelectorAsync("tr[data-answer='ack'][data-from='query-1']");
        await page.ScreenshotAsync("events-query");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Keys_tree_shows_a_key_written_through_etcd_and_its_watch_shows_a_later_write()
    {
        await PutAsync("/dashkeys/color", "blue");
        await using var page = await fixture.OpenAsync("keys", "keys");
        await page.Page.ClickAsync("button[data-dir='/dashkeys']");
        await page.Page.ClickAsync("button[data-key='/dashkeys/color']");
        var value = page.Page.Locator("pre[data-value='/dashkeys/color']");
        await Assertions.Expect(value).ToHaveTextAsync("blue");
        await page.Page.ClickAsync("button[data-action='watch']");

        var modified = await PutAsync("/dashkeys/color", "green");
        await page.Page.WaitForSelectorAsync($"tr[data-watch-index='{modified}']");
        await Assertions.Expect(value).ToHaveTextAsync("green");
        await page.ScreenshotAsync("keys");
        page.AssertNoConsoleErrors();
    }

    /// <summary>Sets a key through etcd's API; returns its modified index.</summary>
    private async Task<long> PutAsync(string key, string value)
    {
        using var response = await Fleet.Http.PutAsync($"/v2/keys{key}", new FormUrlEncodedContent([new("value", value)]));
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return answer.GetProperty("node").GetProperty("modifiedIndex").GetInt64();
    }
}
