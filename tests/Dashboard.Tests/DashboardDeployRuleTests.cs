using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Dashboard.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Dashboard.Tests;

/// <summary>
/// The deploys, deploy and rules views in headless Chromium against a real silo and real agents with deploys on: a deploy
/// started while the page is open changes its tiles live, a node's output is followed, and a rule added from the form's
/// lists is stored and fires.
/// </summary>
public sealed class DashboardDeployRuleTests(DashboardFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private DashboardFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task A_deploy_started_while_the_page_is_open_turns_its_tiles_to_succeeded_live_and_shows_a_nodes_output()
    {
        var gate = Path.Combine(Fleet.NodeDir("gates"), "go-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.GetDirectoryName(gate)!);
        await Fleet.StartAgentAsync("ship-1", deploys: true);
        await Fleet.StartAgentAsync("ship-2", deploys: true);
        await using var page = await fixture.OpenAsync("deploys", "deploys");
        await page.Page.EvaluateAsync("() => { window.notReloaded = true; }");

        // No src: the manifest runs its commands only. pre waits for the test's gate file, so the page sees it running.
        var manifest = $"""
            commands:
              pre:
                - echo "waiting for the gate"
                - while [ ! -f '{gate}' ]; do sleep 0.1; done
                - echo "gate passed"
            """;
        using var started = await Fleet.Http.PostAsJsonAsync("/v1/deploys", new { manifest, target = new { nodes = new[] { "ship-1", "ship-2" } }, strategy = new { batch = 1 } });
        var body = await started.Content.ReadAsStringAsync();
        Assert.True((int)started.StatusCode == 201, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        // The history pushes the new deploy onto the open list; its link opens the deploy.
        await page.Page.Locator($"tr[data-deploy='{id}'] a[href='#/deploys/{id}']").ClickAsync();
        await page.WaitForViewAsync("deploy");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='ship-1'][data-status='running']");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='ship-2'][data-status='pending']");
        Assert.Equal(2, await page.Page.Locator("section.deploy-batch").CountAsync());
        // The open silo allows deploy: the cancel buttons are there while it runs.
        Assert.Equal(1, await page.Page.Locator("button[data-action='cancel']").CountAsync());

        // The running node's output, followed.
        await page.Page.Locator(".deploy-tile[data-node='ship-1']").ClickAsync();
        await page.Page.WaitForSelectorAsync("pre[data-output='ship-1']:has-text('waiting for the gate')");

        var clock = Stopwatch.StartNew();
        File.WriteAllText(gate, "");
        await page.Page.WaitForSelectorAsync("pre[data-output='ship-1']:has-text('gate passed')");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='ship-1'][data-status='succeeded']");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='ship-2'][data-status='succeeded']");
        await page.Page.WaitForSelectorAsync("dd[data-status='succeeded']");
        output.WriteLine($"gate opened to both tiles succeeded on the open page: {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(0, await page.Page.Locator("button[data-action='cancel']").CountAsync());
        Assert.True(await page.Page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");

        var deploy = await Fleet.Http.GetFromJsonAsync<JsonElement>($"/v1/deploys/{id}");
        Assert.Equal("succeeded", deploy.GetProperty("status").GetString());
        await page.ScreenshotAsync("deploy");

        // Back on the list, the filter by target keeps the deploy (its target is nodes=ship-1,ship-2).
        await page.Page.GotoAsync($"{Fleet.Url}/#/deploys?target=ship-1");
        await page.WaitForViewAsync("deploys");
        await page.Page.WaitForSelectorAsync($"tr[data-deploy='{id}'][data-status='succeeded']");
        await page.Page.GotoAsync($"{Fleet.Url}/#/deploys?target=no-such-node");
        // The same view again: wait for the one mounted with the new filter.
        await page.Page.WaitForSelectorAsync("section.view[data-view='deploys'][data-ready] input[name='target'][value='no-such-node']");
        Assert.Equal(0, await page.Page.Locator($"tr[data-deploy='{id}']").CountAsync());
        await page.ScreenshotAsync("deploys");
        page.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_rule_added_from_the_forms_lists_is_listed_by_the_api_and_fires_when_its_event_is_fired()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var name = "dash-rule-" + suffix;
        var eventName = "dash-released-" + suffix;
        var key = "/dash/released-" + suffix;
        await using var page = await fixture.OpenAsync("rules", "rules");
        var form = page.Page.Locator("form[data-form='rule']");
        await form.Locator("input[name='name']").FillAsync(name);
        await form.Locator("select[name='trigger-type']").SelectOptionAsync("user_event");
        await form.Locator("input[name='trigger-name']").FillAsync(eventName);
        await form.Locator("select[name='action-type']").SelectOptionAsync("set_key");
        await form.Locator("input[name='action-key']").FillAsync(key);
        await form.Locator("input[name='action-value']").FillAsync("{{payload}}");
        // A second action copies the payload to another key; a third, a deploy whose strategy the silo refuses, is
        // refused as a whole (nothing added), then removed.
        await form.Locator("button[data-action='add-action']").ClickAsync();
        await form.Locator("select[name='action-2-type']").SelectOptionAsync("set_key");
        await form.Locator("input[name='action-2-key']").FillAsync(key + "-copy");
        await form.Locator("input[name='action-2-value']").FillAsync("copy of {{payload}}");
        await form.Locator("button[data-action='add-action']").ClickAsync();
        await form.Locator("select[name='action-3-type']").SelectOptionAsync("start_deploy");
        await form.Locator("input[name='action-3-manifestUrl']").FillAsync($"{Fleet.Url}/v1/artifacts/app/manifest.yml");
        await form.Locator("select[name='action-3-target-kind']").SelectOptionAsync("all");
        await form.Locator("input[name='action-3-strategy-batch']").FillAsync("1 0%");
        await form.Locator("input[name='action-3-strategy-max_parallel']").FillAsync("1");
        // The form has no field for a script, an expression or an inline manifest.
        Assert.Equal(0, await form.Locator("textarea").CountAsync());
        await form.Locator("button[type='submit']").ClickAsync();
        await page.Page.WaitForSelectorAsync("[role='alert']:has-text('actions[2].strategy.batch[1]')");
        Assert.Equal(0, (await Fleet.Http.GetFromJsonAsync<JsonElement>("/v1/rules")).EnumerateArray().Count(r => r.GetProperty("name").GetString() == name));
        await form.Locator(".rule-action[data-action-index='3'] button[data-action='remove-action']").ClickAsync();
        await form.Locator("button[type='submit']").ClickAsync();
        await page.Page.WaitForSelectorAsync(".note[data-added]");
        await page.Page.WaitForSelectorAsync($"tr[data-rule='{name}'][data-enabled='true']");

        var rules = await Fleet.Http.GetFromJsonAsync<JsonElement>("/v1/rules");
        var rule = rules.EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        Assert.Equal("user_event", rule.GetProperty("trigger").GetProperty("type").GetString());
        Assert.Equal(eventName, rule.GetProperty("trigger").GetProperty("name").GetString());
        var actions = rule.GetProperty("actions").EnumerateArray().Select(a => (a.GetProperty("type").GetString(), a.GetProperty("key").GetString(), a.GetProperty("value").GetString()));
        Assert.Equal([("set_key", key, "{{payload}}"), ("set_key", key + "-copy", "copy of {{payload}}")], actions);

        using (var fired = await Fleet.Http.PostAsync($"/v1/events/{eventName}", new ByteArrayContent(Encoding.UTF8.GetBytes("v7"))))
            Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
        await Fleet.UntilAsync(async () => await KeyValueAsync(key) == "v7" && await KeyValueAsync(key + "-copy") == "copy of v7", $"the rule setting {key} and {key}-copy");

        // Its run is pushed onto the open page; then disable, and delete, from the page.
        await page.Page.WaitForSelectorAsync($"tr[data-rule='{name}'] [data-run='succeeded']");
        await page.Page.Locator($"tr[data-rule='{name}'] button[data-action='disable']").ClickAsync();
        await page.Page.WaitForSelectorAsync($"tr[data-rule='{name}'][data-enabled='false']");
        Assert.False((await Fleet.Http.GetFromJsonAsync<JsonElement>($"/v1/rules/{name}")).GetProperty("enabled").GetBoolean());
        await page.ScreenshotAsync("rules");
        await page.Page.Locator($"tr[data-rule='{name}'] button[data-action='delete']").ClickAsync();
        await page.Page.Locator($"tr[data-rule='{name}']").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        using (var gone = await Fleet.Http.GetAsync($"/v1/rules/{name}"))
            Assert.Equal(404, (int)gone.StatusCode);
        // The refused add is the browser's one expected 400 line.
        page.AssertNoConsoleErrorsBut(400);
    }

    /// <summary>The key's value through etcd's API, or null when it is not set.</summary>
    private async Task<string?> KeyValueAsync(string key)
    {
        using var response = await Fleet.Http.GetAsync($"/v2/keys{key}");
        if (!response.IsSuccessStatusCode) return null;
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("node").GetProperty("value").GetString();
    }
}
