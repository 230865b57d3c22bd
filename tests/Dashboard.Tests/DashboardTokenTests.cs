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
        await fixture.Fleet.StartAgentAsync("token-1", token: admin);

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
        // Only the first whoami, made before the token was given, was refused.
        page.AssertNoConsoleErrorsBut(401);
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
