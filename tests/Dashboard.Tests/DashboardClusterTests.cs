using Platform.Dashboard.Tests.Support;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Dashboard.Tests;

/// <summary>The cluster view of a real two-silo cluster on PostgreSQL, in Chromium: a silo killed with kill -9 shows as dead in the membership history.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DashboardClusterTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DashboardBrowser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task Membership_history_shows_both_joins_and_a_killed_silos_suspicion_and_death_without_a_reload()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Membership_history_shows_both_joins_and_a_killed_silos_suspicion_and_death_without_a_reload));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(2, TimeSpan.FromSeconds(60));
        var victim = (await cluster.StatusAsync(0)).SelfAddress;

        await using var page = await _browser.OpenAsync($"http://127.0.0.1:{cluster.HttpPorts[1]}/#/cluster", "cluster");
        await page.Page.WaitForSelectorAsync("tr[data-change='joined'] >> nth=1");
        await cluster[0].KillAsync();
        // The page polls /v1/cluster every 2 s: the death arrives on the open page, red, with the survivor's suspicion.
        var dead = page.Page.Locator($"tr.failed[data-change='dead']:has-text('{victim}')");
        await dead.WaitForAsync(new() { Timeout = 60_000 });
        Assert.True(await page.Page.Locator($"tr[data-change='suspected']:has-text('{victim}')").CountAsync() > 0, "the death is listed without the suspicion that led to it");
        await page.ScreenshotAsync("cluster-history");
        page.AssertNoConsoleErrors();
        cluster.Passed = true;
    }
}
