using System.Net;
using System.Text.Json;

namespace Platform.Silo.Tests.Access;

/// <summary>GET /v1/access/whoami on a silo with tokens: any token in force learns its name and scopes; others are refused.</summary>
public sealed class WhoAmITests(AccessSilo access) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task Whoami_names_the_token_and_its_scopes_whatever_they_are()
    {
        var reader = await access.CreateAsync("whoami-reader", ["keys:read:/app/", "nodes:read"], expiresIn: "1h");
        using var response = await access.SendAsync(HttpMethod.Get, "/v1/access/whoami", reader);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var me = JsonDocument.Parse(body).RootElement;
        Assert.Equal("whoami-reader", me.GetProperty("name").GetString());
        Assert.Equal(["keys:read:/app/", "nodes:read"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.False(me.GetProperty("open").GetBoolean());
        Assert.True(me.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);

        using var admin = await access.SendAsync(HttpMethod.Get, "/v1/access/whoami", access.Admin);
        Assert.Equal("admin", JsonDocument.Parse(await admin.Content.ReadAsStringAsync()).RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Whoami_without_a_token_or_with_a_revoked_one_is_401_saying_why()
    {
        using (var none = await access.SendAsync(HttpMethod.Get, "/v1/access/whoami", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Contains("a token is required for this request and none was sent", await none.Content.ReadAsStringAsync());
            Assert.Equal("Bearer realm=\"platform\"", none.Headers.WwwAuthenticate.ToString());
        }
        var gone = await access.CreateAsync("whoami-gone", ["query"]);
        await access.RevokeAsync("whoami-gone");
        using var revoked = await access.SendAsync(HttpMethod.Get, "/v1/access/whoami", gone);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("token 'whoami-gone' was revoked at", await revoked.Content.ReadAsStringAsync());
    }
}
