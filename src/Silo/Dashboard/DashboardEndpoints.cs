using Microsoft.Net.Http.Headers;

namespace Platform.Silo.Dashboard;

/// <summary>
/// The dashboard (docs/dashboard.md): <c>/</c> is its page and <c>/ui/*</c> its scripts and styles, embedded in the
/// silo. Every answer carries a strict Content-Security-Policy (only this silo's scripts, styles and API) and an ETag;
/// a browser revalidates each file and gets 304 while it is unchanged.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Scripts, styles, images and API calls from this silo only; no inline script or style, no frames.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The prefix of the dashboard's files other than its page.</summary>
    public const string AssetPrefix = "/ui";

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var files = app.ServiceProvider.GetRequiredService<DashboardFiles>();
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", methods, (HttpContext context) => Serve(context, files.Find("/index.html")));
        app.MapMethods(AssetPrefix + "/{**path}", methods, (HttpContext context, string path) => Serve(context, files.Find(AssetPrefix + "/" + path)));
        return app;
    }

    private static Task Serve(HttpContext context, DashboardFile? file)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (file is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync($"no dashboard file at {context.Request.Path}\n");
        }
        // File names carry no version, so the browser keeps a copy but asks each time: a 304 costs a few bytes.
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        if (Matches(context.Request.Headers.IfNoneMatch.ToString(), file.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = file.ContentType;
        response.ContentLength = file.Content.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(file.Content).AsTask();
    }

    /// <summary>If-None-Match: <c>*</c> or a list of tags, weak ones (<c>W/"..."</c>) compared by their value.</summary>
    internal static bool Matches(string ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Length == 0) return false;
        if (!EntityTagHeaderValue.TryParseList([ifNoneMatch], out var tags)) return false;
        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.Equals(etag, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
