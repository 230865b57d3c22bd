using System.Net.Http.Json;
using System.Text.Json;
using Platform.Dashboard.Tests.Support;

namespace Platform.Dashboard.Tests;

/// <summary>A node's page lists the deploys that ran on it, as they run: a real agent's part in a deploy appears running, then succeeded, without a reload.</summary>
public sealed class DashboardNodeHistoryTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private DashboardFleet Fleet => fixture.Fleet;

    [Fact]
    public async Task A_deploy_on_the_node_appears_on_its_open_page_running_then_succeeded()
    {
        const string node = "history-1";
        var gate = Path.Combine(Fleet.NodeDir("gates"), "history-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.GetDirectoryName(gate)!);
        await Fleet.StartAgentAsync(node, deploys: true);
        await using var page = await fixture.OpenAsync($"nodes/{node}", "node");
        await page.Page.EvaluateAsync("() => { window.notReloaded = true; }");
        await page.Page.WaitForSelectorAsync("text=No deploy has run on this node.");

        var manifest = $"""
            commands:
              pre:
                - while [ ! -f '{gate}' ]; do sleep 0.1; done
            """;
        using var started = await Fleet.Http.PostAsJsonAsync("/v1/deploys", new { manifest, target = new { nodes = new[] { node } } });
        var body = await started.Content.ReadAsStringAsync();
        Assert.True((int)started.StatusCode == 201, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        await page.Page.WaitForSelectorAsync($"tr[data-deploy='{id}'][data-status='running']");
        File.WriteAllText(gate, "");
        await page.Page.WaitForSelectorAsync($"tr[data-deploy='{id}'][data-status='succeeded']");
        Assert.True(await page.Page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        await page.ScreenshotAsync("node-history");

        // Its link opens the deploy.
        await page.Page.Locator($"tr[data-deploy='{id}'] a").ClickAsync();
        await page.WaitForViewAsync("deploy");
        await page.Page.WaitForSelectorAsync($".deploy-tile[data-node='{node}'][data-status='succeeded']");
        page.AssertNoConsoleErrors();
    }
}
