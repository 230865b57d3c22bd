using System.Text;
using Platform.Silo.Agents;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>GET /v1/monitor: an NDJSON stream of the member events, user events and queries this silo sees.</summary>
public static class MonitorEndpoints
{
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    public static IEndpointRouteBuilder MapMonitorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/monitor", Monitor);
        return app;
    }

    private static async Task Monitor(HttpContext context, AgentHub hub)
    {
        await hub.Ready.WaitAsync(context.RequestAborted);
        using var stream = hub.Monitor.Open();
        var response = context.Response;
        response.ContentType = "application/x-ndjson";
        var aborted = context.RequestAborted;
        await response.StartAsync(aborted);
        // The headers go out now, so a client sees the stream open before the first line.
        await response.Body.FlushAsync(aborted);
        try
        {
            while (await stream.Lines.WaitToReadAsync(aborted))
            {
                // A reader that fell behind is told how many lines it lost (the queue is bounded).
                if (stream.TakeDropped() is > 0 and var dropped)
                {
                    await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"dropped\",\"count\":{dropped}}}\n"), aborted);
                }
                while (stream.Lines.TryRead(out var line))
                {
                    await response.Body.WriteAsync(line, aborted);
                    await response.Body.WriteAsync(s_newline, aborted);
                }
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
    }
}
