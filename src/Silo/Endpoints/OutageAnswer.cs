using Platform.Runtime;
using Platform.Runtime.Transport;

namespace Platform.Silo.Endpoints;

/// <summary>
/// A request whose endpoint failed because storage is out, or because the silo holding its grain just went away (until
/// the cluster declares it dead and the grain moves), gets a 503 with <c>Retry-After</c> that says only that, and no log
/// line of its own: the storage monitor and membership log those once. The etcd and Consul endpoints answer in their own
/// shapes before this sees anything.
/// </summary>
public static class OutageAnswer
{
    private const string SiloMessage = "a silo of the cluster is unavailable, retry later";

    public static IApplicationBuilder UseOutageAnswer(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (Describe(e) is { } message && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsJsonAsync(new { error = message });
        }
    });

    private static string? Describe(Exception e)
    {
        if (StorageUnavailableException.IsCauseOf(e)) return StorageUnavailableException.ClientMessage;
        for (Exception? cur = e; cur is not null; cur = cur.InnerException)
            if (cur is SiloUnavailableException or SiloOverloadedException) return SiloMessage;
        return null;
    }
}
