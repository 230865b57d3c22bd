using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Platform.Dashboard.Tests.Support;

namespace Platform.Dashboard.Tests;

/// <summary>How a real silo serves the dashboard's files: content types, the Content-Security-Policy, ETags and 304s.</summary>
public sealed class DashboardServingTests(DashboardFleet fleet) : IClassFixture<DashboardFleet>
{
    [Fact]
    public async Task The_page_is_served_at_the_root_with_a_strict_content_security_policy()
    {
        using var response = await fleet.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Equal("nosniff", string.Join("", response.Headers.GetValues("X-Content-Type-Options")));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"/ui/app.js\"></script>", html);
        // Nothing from outside the silo: no absolute URL in the page.
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }

    [Theory]
    [InlineData("/ui/app.js", "text/javascript; charset=utf-8")]
    [InlineData("/ui/lib/api.js", "text/javascript; charset=utf-8")]
    [InlineData("/ui/views/nodes.js", "text/javascript; charset=utf-8")]
    [InlineData("/ui/app.css", "text/css; charset=utf-8")]
    [InlineData("/ui/icon.svg", "image/svg+xml")]
    public async Task Each_file_has_its_content_type_and_a_304_answers_a_matching_etag(string path, string contentType)
    {
        using var first = await fleet.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(contentType, first.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-cache", first.Headers.CacheControl?.ToString());
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await fleet.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var full = await fleet.Http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
    }

    [Fact]
    public async Task An_unknown_file_is_404_naming_the_path()
    {
        using var response = await fleet.Http.GetAsync("/ui/nothing-here.js");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/ui/nothing-here.js", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Whoami_on_an_open_loopback_silo_says_it_is_open()
    {
        using var response = await fleet.Http.GetAsync("/v1/access/whoami");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(me.GetProperty("open").GetBoolean());
        Assert.Equal("anonymous", me.GetProperty("name").GetString());
        Assert.Equal(["admin"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray());
    }
}
