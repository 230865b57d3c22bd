using System.Net.Http.Json;
using Microsoft.Playwright;
using System.Text.Json;
using Platform.Dashboard.Tests.Support;
using Xunit.Abstractions;
using static Platform.Silo.Tests.Support.GitCli;

namespace Platform.Dashboard.Tests;

/// <summary>
/// The builds views in headless Chromium against a real silo and a real <c>platform agent</c> with build slots, building a
/// local git repository whose step prints a coloured line, then waits for a file the test writes before each next line.
/// </summary>
public sealed class DashboardBuildsTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>, IDisposable
{
    /// <summary>
    /// The step: a green line, then "second line" once go-N exists, then it ends once end-N exists (N the build's number, the end of its id,
    /// so builds of one repository wait for files of their own).
    /// </summary>
    private const string Step = """
        #!/bin/sh
        n=${PLATFORM_BUILD_ID##*/}
        printf '\033[32mgreen start\033[0m plain\n'
        while [ ! -f "$1/go-$n" ]; do sleep 0.1; done
        printf 'second line\n'
        while [ ! -f "$1/end-$n" ]; do sleep 0.1; done
        echo done

        """;

    private readonly string _work = Path.Combine(Path.GetTempPath(), "platform-dash-builds-" + Guid.NewGuid().ToString("N")[..8]);

    private DashboardFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task A_running_jobs_log_appears_line_by_line_in_colour_and_the_build_turns_passed_without_a_reload()
    {
        const string repo = "dash/live";
        await BuilderAsync("builder-live");
        await RegisterAsync(repo, MakeRepository("live"));
        var id = await StartAsync(repo, "main");
        await using var page = await fixture.OpenAsync($"builds/{id}", "build");
        await page.Page.EvaluateAsync("() => { window.notReloaded = true; }");

        // The step's first line, its colour rendered as a span with the class of ANSI green.
        await page.Page.WaitForSelectorAsync("pre.build-log span.ansi-fg-2:text('green start')");
        Assert.Equal(0, await page.Page.Locator("pre.build-log div:text('second line')").CountAsync());
        await page.Page.WaitForSelectorAsync("tr[data-job='talk'][data-state='running']");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        File.WriteAllText(Path.Combine(_work, "go-1"), "");
        await Fleet.UntilAsync(async () => (await LogAsync(id, "talk")).Contains("second line", StringComparison.Ordinal), "the step's second line stored");
        try
        {
            await page.Page.WaitForSelectorAsync("pre.build-log div:text('second line')");
            output.WriteLine($"the step's next line on the open page {clock.ElapsedMilliseconds} ms after it was let go");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the page did not show the second line; it shows:\n{await page.Page.InnerTextAsync("main")}", e);
        }
        clock.Restart();
        File.WriteAllText(Path.Combine(_work, "end-1"), "");
        await page.Page.WaitForSelectorAsync("[data-build-state='passed']");
        output.WriteLine($"the build passed on the open page {clock.ElapsedMilliseconds} ms after its step was let end");
        await page.Page.WaitForSelectorAsync("tr[data-job='talk'][data-state='passed']");

        Assert.True(await page.Page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        await page.ScreenshotAsync("build-passed");

        // The page of the agent that ran the step (the fleet's builders are all alike) lists the job, and links back to its log.
        var agent = Job(await BuildAsync(id), "talk").GetProperty("agent").GetString()!;
        await page.Page.GotoAsync($"{Fleet.Url}/#/nodes/{agent}");
        await page.WaitForViewAsync("node");
        await page.Page.WaitForSelectorAsync($"tr[data-build='{id}'][data-job='talk'][data-state='passed']");
        await page.Page.Locator($"tr[data-build='{id}'][data-job='talk'] a").ClickAsync();
        await page.WaitForViewAsync("build");
        await page.Page.WaitForSelectorAsync("pre.build-log div:text('second line')");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_followed_log_whose_stream_breaks_when_the_silo_restarts_goes_on_where_it_was()
    {
        const string repo = "dash/restart";
        await BuilderAsync("builder-restart");
        await RegisterAsync(repo, MakeRepository("restart"));
        var id = await StartAsync(repo, "main");
        await using var page = await fixture.OpenAsync($"builds/{id}", "build");
        await page.Page.EvaluateAsync("() => { window.notReloaded = true; }");
        await page.Page.WaitForSelectorAsync("pre.build-log span.ansi-fg-2:text('green start')");
        await page.Page.WaitForSelectorAsync("tr[data-job='talk'][data-state='running']");

        // The log's stream breaks with the silo; the job goes on on its agent meanwhile.
        await Fleet.RestartSiloAsync();
        File.WriteAllText(Path.Combine(_work, "go-1"), "");
        await Fleet.UntilAsync(async () => (await LogAsync(id, "talk")).Contains("second line", StringComparison.Ordinal), "the step's second line stored");
        try
        {
            await page.Page.WaitForSelectorAsync("pre.build-log div:text('second line')");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the page did not show the second line after the restart; it shows:\n{await page.Page.InnerTextAsync("main")}", e);
        }
        File.WriteAllText(Path.Combine(_work, "end-1"), "");
        await page.Page.WaitForSelectorAsync("pre.build-log div:text('done')");
        // Each line once: the stream went on from the last whole line shown, neither again from the start nor with a gap.
        var shown = await page.Page.Locator("pre.build-log div").AllInnerTextsAsync();
        Assert.Equal(["green start plain", "second line", "done"], shown.Where(l => !l.StartsWith("~~~ platform:", StringComparison.Ordinal)));
        Assert.Equal(shown.Count, shown.Distinct().Count());
        Assert.True(await page.Page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
    }

    [Fact]
    public async Task Cancel_on_the_page_cancels_a_running_build()
    {
        const string repo = "dash/cancel";
        await BuilderAsync("builder-cancel");
        await RegisterAsync(repo, MakeRepository("cancel"));
        var id = await StartAsync(repo, "main");
        await using var page = await fixture.OpenAsync($"builds/{id}", "build");
        await page.Page.WaitForSelectorAsync("pre.build-log span.ansi-fg-2:text('green start')");

        await page.Page.ClickAsync("button[data-action='cancel']");
        await page.Page.WaitForSelectorAsync("[data-build-state='canceled']");
        await Fleet.UntilAsync(async () => (await BuildAsync(id)).GetProperty("state").GetString() == "canceled", $"build {id} canceled");
        Assert.Equal("canceled", Job(await BuildAsync(id), "talk").GetProperty("state").GetString());
        // A finished build that did not pass can be retried; a cancel no longer applies.
        await page.Page.WaitForSelectorAsync("button[data-action='retry']");
        Assert.Equal(0, await page.Page.Locator("button[data-action='cancel']").CountAsync());
        await page.ScreenshotAsync("build-canceled");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Filters_narrow_the_history_and_the_list_shows_a_new_build_live()
    {
        // Nothing here needs them to run: their clone URLs lead nowhere.
        await RegisterAsync("dash/filter-a", "file:///nonexistent/a.git");
        await RegisterAsync("dash/filter-b", "file:///nonexistent/b.git");
        var a1 = await StartAsync("dash/filter-a", "main", "0123456789abcdef0123456789abcdef01234567");
        var a2 = await StartAsync("dash/filter-a", "release", "0123456789abcdef0123456789abcdef01234567");
        var b1 = await StartAsync("dash/filter-b", "main", "0123456789abcdef0123456789abcdef01234567");
        try
        {
            await using var page = await fixture.OpenAsync("builds?repo=dash/filter-a", "builds");
            await page.Page.WaitForSelectorAsync($"tr[data-build='{a1}']");
            await page.Page.WaitForSelectorAsync($"tr[data-build='{a2}']");
            Assert.Equal(0, await page.Page.Locator($"tr[data-build='{b1}']").CountAsync());

            await page.Page.FillAsync("input[name='branch']", "release");
            await page.Page.ClickAsync("form button[type='submit']");
            await page.WaitForViewAsync("builds");
            await page.Page.WaitForSelectorAsync($"tr[data-build='{a2}']");
            Assert.Equal(0, await page.Page.Locator($"tr[data-build='{a1}']").CountAsync());
            Assert.Equal(0, await page.Page.Locator($"tr[data-build='{b1}']").CountAsync());

            // Pushed, not polled: a new build of the filtered branch appears on the open page.
            var a3 = await StartAsync("dash/filter-a", "release", "0123456789abcdef0123456789abcdef01234567");
            await page.Page.WaitForSelectorAsync($"tr[data-build='{a3}']");
            Assert.Equal(0, await page.Page.Locator($"tr[data-build='{a1}']").CountAsync());
            await page.ScreenshotAsync("builds-filtered");
            page.AssertNoConsoleErrors();
            await CancelAsync(a3);
        }
        finally
        {
            foreach (var id in new[] { a1, a2, b1 }) await CancelAsync(id);
        }
    }

    [Fact]
    public async Task The_queue_groups_a_waiting_job_by_the_agent_tags_it_needs_with_why_it_waits()
    {
        const string repo = "dash/queue";
        await BuilderAsync("builder-queue");
        await RegisterAsync(repo, MakeRepository("queue", """
            steps:
              - key: far
                run: scripts/talk.sh
                agents:
                  pool: nowhere
            """));
        var id = await StartAsync(repo, "main");
        try
        {
            await using var page = await fixture.OpenAsync("builds", "builds");
            var reason = page.Page.Locator($".queue-group[data-tags='pool=nowhere'] tr[data-job='{id}/far'] td.reason");
            await Assertions.Expect(reason).ToContainTextAsync("has the tags pool=nowhere");
            await page.ScreenshotAsync("builds-queue");
            page.AssertNoConsoleErrors();
        }
        finally
        {
            await CancelAsync(id);
        }
    }

    [Fact]
    public async Task A_long_log_shows_its_tail_and_loads_earlier_lines_on_demand()
    {
        const string repo = "dash/long";
        await BuilderAsync("builder-long");
        await RegisterAsync(repo, MakeRepository("long", """
            steps:
              - key: count
                run: scripts/count.sh
            """));
        var id = await StartAsync(repo, "main");
        await Fleet.UntilAsync(async () => (await BuildAsync(id)).GetProperty("state").GetString() == "passed", $"build {id} passed");
        await using var page = await fixture.OpenAsync($"builds/{id}?job=count", "build");
        var log = page.Page.Locator("pre.build-log");
        await Assertions.Expect(log.Locator("div", new() { HasTextRegex = new("^30000$") })).ToHaveCountAsync(1);
        // 30,000 numbered lines are about 170 KB: the page holds the tail only, from a whole line.
        Assert.Equal(0, await log.Locator("div", new() { HasTextRegex = new("^1$") }).CountAsync());
        var first = int.Parse(await log.Locator("div").Nth(0).InnerTextAsync());
        Assert.True(first > 1, $"the tail starts at line {first}");
        var shown = await log.Locator("div").CountAsync();
        Assert.True(shown <= 2000, $"{shown} lines on the page");

        await page.Page.ClickAsync("button:text('Load earlier')");
        await Assertions.Expect(log.Locator("div").Nth(0)).Not.ToHaveTextAsync(first.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var earlier = int.Parse(await log.Locator("div").Nth(0).InnerTextAsync());
        Assert.True(earlier < first, $"after Load earlier the log starts at line {earlier}, before {first}");
        // Contiguous: the line before the old first one is there.
        await Assertions.Expect(log.Locator("div", new() { HasTextRegex = new($"^{first - 1}$") })).ToHaveCountAsync(1);
        page.AssertNoConsoleErrors();
    }

    private async Task BuilderAsync(string node)
        => await Fleet.StartAgentAsync(node, settings: new() { ["build_slots"] = 2 });

    /// <summary>A bare repository with <paramref name="pipeline"/> (default: one step running talk.sh) and the scripts; answers its file:// clone URL.</summary>
    private string MakeRepository(string name, string? pipeline = null)
    {
        var source = Path.Combine(_work, name + "-source");
        var bare = Path.Combine(_work, name + ".git");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        Directory.CreateDirectory(Path.Combine(source, "scripts"));
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"), pipeline ?? $"""
            steps:
              - key: talk
                run: scripts/talk.sh
                args: [{_work}]
            """);
        File.WriteAllText(Path.Combine(source, "scripts", "talk.sh"), Step);
        File.WriteAllText(Path.Combine(source, "scripts", "count.sh"), "#!/bin/sh\nseq 1 30000\n");
        Git(source, "init", "--quiet", "--initial-branch=main");
        Git(source, "add", ".");
        Git(source, "update-index", "--chmod=+x", "scripts/talk.sh", "scripts/count.sh");
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "pipeline");
        Git(_work, "clone", "--quiet", "--bare", source, bare);
        return "file://" + bare;
    }

    private async Task RegisterAsync(string repo, string cloneUrl)
    {
        Directory.CreateDirectory(_work);
        using var r = await Fleet.Http.PutAsJsonAsync($"/v1/repos/{repo}", new { cloneUrl, secret = "dash-builds-hook" });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private async Task<string> StartAsync(string repo, string branch, string? commit = null)
    {
        using var response = await Fleet.Http.PostAsJsonAsync("/v1/builds", new { repo, branch, commit });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> BuildAsync(string id) => await Fleet.Http.GetFromJsonAsync<JsonElement>($"/v1/builds/{id}");

    private async Task<string> LogAsync(string id, string job) => await Fleet.Http.GetStringAsync($"/v1/builds/{id}/jobs/{job}/log");

    private async Task CancelAsync(string id) => (await Fleet.Http.PostAsync($"/v1/builds/{id}/cancel", null)).Dispose();

    private static JsonElement Job(JsonElement build, string key) => build.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("key").GetString() == key);

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); }
        catch (DirectoryNotFoundException) { /* nothing was made */ }
    }
}
