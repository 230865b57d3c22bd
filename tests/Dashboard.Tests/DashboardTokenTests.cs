using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Dashboard.Tests.Support;

namespace Platform.Dashboard.Tests;

/// <summary>A silo with tokens (its own: the first token closes it): the dashboard asks for one, sends it, and hides what its scopes do not allow.</summary>
public sealed class DashboardTokenTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task The_page_asks_for_a_token_and_a_read_only_token_sees_no_buttons_it_could_not_use()
    {
        var admin = await CreateAsync("dash-admin", ["admin"], null);
        var viewer = await CreateAsync("dash-viewer", ["nodes:read", "keys:read"], admin);
        await fixture.Fleet.StartAgentAsync("token-1", token: admin, deploys: true);

        await using var page = await fixture.Browser.NewPageAsync();
        await page.Page.GotoAsync($"{fixture.Fleet.Url}/#/events");
        await page.Page.WaitForSelectorAsync("#token-dialog[open]");
        await page.Page.FillAsync("#token-input", viewer);
        await page.Page.ClickAsync("#token-form button[type='submit']");
        await page.WaitForViewAsync("events");
        await page.Page.WaitForSelectorAsync("#who :text('token dash-viewer')");
        Assert.Equal(0, await page.Page.Locator("form[data-form='fire']").CountAsync());
        Assert.Equal(0, await page.Page.Locator("form[data-form='query']").CountAsync());
        await page.ScreenshotAsync("token-viewer-events");

        await page.Page.GotoAsync($"{fixture.Fleet.Url}/#/keys");
        await page.WaitForViewAsync("keys");
        Assert.Equal(0, await page.Page.Locator("form[data-form='set-key']").CountAsync());
        await page.Page.GotoAsync($"{fixture.Fleet.Url}/#/nodes/token-1");
        await page.WaitForViewAsync("node");
        await page.Page.WaitForSelectorAsync("dd[data-status='alive']");
        Assert.Equal(0, await page.Page.Locator("button:text('Ask to leave')").CountAsync());

        // A running deploy (its node waits for a file) shows the viewer no cancel; the rules view no form and no buttons.
        var gate = Path.Combine(fixture.Fleet.NodeDir("token-1"), "go");
        var id = await StartDeployAsync(admin, $"commands:\n  pre:\n    - while [ ! -f '{gate}' ]; do sleep 0.1; done\n");
        await page.Page.GotoAsync($"{fixture.Fleet.Url}/#/deploys/{id}");
        await page.WaitForViewAsync("deploy");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='token-1'][data-status='running']");
        Assert.Equal(0, await page.Page.Locator("button[data-action^='cancel']").CountAsync());
        File.WriteAllText(gate, "");
        await page.Page.WaitForSelectorAsync(".deploy-tile[data-node='token-1'][data-status='succeeded']");
        await AddRuleAsync(admin);
        await page.Page.GotoAsync($"{fixture.Fleet.Url}/#/rules");
        await page.WaitForViewAsync("rules");
        await page.Page.WaitForSelectorAsync("tr[data-rule='dash-token-rule']");
        Assert.Equal(0, await page.Page.Locator("form[data-form='rule']").CountAsync());
        Assert.Equal(0, await page.Page.Locator("tr[data-rule] button").CountAsync());
        // Only the first whoami, made before the token was given, was refused.
        page.AssertNoConsoleErrorsBut(401);
    }

    private async Task<string> StartDeployAsync(string bearer, string manifest)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/deploys") { Content = JsonContent.Create(new { manifest, target = new { nodes = new[] { "token-1" } } }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await fixture.Fleet.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"starting a deploy: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task AddRuleAsync(string bearer)
    {
        var rule = new { name = "dash-token-rule", trigger = new { type = "user_event", name = "dash-token" }, actions = new[] { new { type = "set_key", key = "/dash/token" } } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/rules") { Content = JsonContent.Create(rule) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await fixture.Fleet.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"adding a rule: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<string> CreateAsync(string name, string[] scopes, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/access/tokens") { Content = JsonContent.Create(new { name, scopes }) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await fixture.Fleet.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating token {name}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
    }
}
