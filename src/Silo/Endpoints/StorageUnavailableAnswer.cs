using Platform.Runtime;

namespace Platform.Silo.Endpoints;

/// <summary>
/// A request whose endpoint failed because storage is out gets a 503 that says only that (with <c>Retry-After</c>), and
/// no log line of its own: the silo's storage monitor logs the outage once and summarises it. The etcd and Consul
/// endpoints answer in their own shapes before this sees anything.
/// </summary>
public static class StorageUnavailableAnswer
{
    public static IApplicationBuilder UseStorageUnavailableAnswer(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (IsStorageOutage(e) && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsJsonAsync(new { error = StorageUnavailableException.ClientMessage });
        }
    });

    private static bool IsStorageOutage(Exception e)
    {
        for (Exception? cur = e; cur is not null; cur = cur.InnerException)
            if (cur is StorageUnavailableException) return true;
        return false;
    }
}
