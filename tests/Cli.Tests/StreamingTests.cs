using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Cli.Tests.Support;

namespace Platform.Cli.Tests;

/// <summary>The real <c>platform query</c> prints each ack and response as the silo streams it, not when the query ends.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task Platform_query_prints_an_ack_before_the_query_is_over()
    {
        var ackPrinted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var silo = await TestSilo.StartAsync(app => app.MapPost("/v1/queries/{name}", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.WriteAsync("""{"type":"ack","from":"n1"}""" + "\n");
            await context.Response.Body.FlushAsync();
            await ackPrinted.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the rest only once the command has shown the ack
            await context.Response.WriteAsync("""{"type":"response","from":"n1","payload":"dXAgMyBkYXlzCg=="}""" + "\n" + """{"type":"done","acks":1,"responses":1}""" + "\n");
        }));
        await using var query = RunningProcess.Start(PlatformCommand.StartInfo(["query", "uptime", "--url", silo.Url.ToString()]));
        Assert.Equal("Query 'uptime' dispatched", await query.WaitForLineAsync(l => l.StartsWith("Query", StringComparison.Ordinal), TimeSpan.FromSeconds(30)));
        await query.WaitForLineAsync(l => l == "Ack from 'n1'", TimeSpan.FromSeconds(30));
        ackPrinted.SetResult();
        await query.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, query.ExitCode);
        Assert.Equal(["Query 'uptime' dispatched", "Ack from 'n1'", "Response from 'n1': up 3 days", "Total Acks: 1", "Total Responses: 1"], query.StdOut);
    }
}
