using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Platform.Cli.Tests.Support;
using Platform.Client;

namespace Platform.Cli.Tests;

/// <summary>
/// The SDK across several silos (in-test Kestrel apps and URLs that refuse connections): an unreachable silo fails over
/// to the next; a POST that fires an event or runs a query moves on only when it never reached a silo.
/// </summary>
public sealed class FailoverTests
{
    private const string NodesJson = """{"nodes":[{"name":"web-1","addr":"10.0.0.1","port":7946,"tags":{"role":"web"},"status":"alive","protocol":5}]}""";

    private static PlatformClient Client(params Uri[] urls) => new(new PlatformClientOptions { Urls = urls });

    [Fact]
    public async Task Listing_nodes_fails_over_from_a_silo_that_refuses_connections_to_the_next()
    {
        var calls = 0;
        await using var silo = await TestSilo.StartAsync(app => app.MapGet("/v1/nodes", () =>
        {
            Interlocked.Increment(ref calls);
            return Results.Text(NodesJson, "application/json");
        }));
        using var client = Client(TestSilo.Refusing(), silo.Url);
        var nodes = await client.ListNodesAsync();
        var node = Assert.Single(nodes);
        Assert.Equal(new Node("web-1", "10.0.0.1", 7946, node.Tags, "alive", 5), node with { Checks = null });
        Assert.Equal("web", node.Tags!["role"]);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Firing_an_event_fails_over_when_the_first_silo_refuses_and_fires_once()
    {
        var fired = new List<(string Name, string Payload, string? Coalesce)>();
        await using var silo = await TestSilo.StartAsync(app => app.MapPost("/v1/events/{name}", async (string name, HttpRequest request) =>
        {
            var payload = await new StreamReader(request.Body).ReadToEndAsync();
            lock (fired) fired.Add((name, payload, request.Query["coalesce"]));
            return Results.Json(new { id = "e1", name, lTime = 7 });
        }));
        using var client = Client(TestSilo.Refusing(), silo.Url);
        var result = await client.FireEventAsync("deploy", Encoding.UTF8.GetBytes("v1"), coalesce: false);
        Assert.Equal(new FiredEvent("e1", "deploy", 7), result);
        Assert.Equal([("deploy", "v1", "false")], fired);
    }

    [Fact]
    public async Task An_event_that_reached_a_silo_is_not_sent_to_another_when_the_connection_breaks()
    {
        var first = 0;
        var second = 0;
        await using var breaking = await TestSilo.StartAsync(app => app.MapPost("/v1/events/{name}", (HttpContext context) =>
        {
            Interlocked.Increment(ref first);
            context.Abort(); // the silo got the event, then the connection went
        }));
        await using var healthy = await TestSilo.StartAsync(app => app.MapPost("/v1/events/{name}", (string name) =>
        {
            Interlocked.Increment(ref second);
            return Results.Json(new { id = "e1", name, lTime = 1 });
        }));
        using var client = Client(breaking.Url, healthy.Url);
        var e = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.FireEventAsync("deploy", Encoding.UTF8.GetBytes("v1")));
        Assert.IsNotType<SiloUnreachableException>(e);
        Assert.Equal(1, first);
        Assert.Equal(0, second);
    }

    [Fact]
    public async Task A_read_that_reached_a_silo_is_repeated_on_another_when_the_connection_breaks()
    {
        var first = 0;
        await using var breaking = await TestSilo.StartAsync(app => app.MapGet("/v1/nodes", (HttpContext context) =>
        {
            Interlocked.Increment(ref first);
            context.Abort();
        }));
        await using var healthy = await TestSilo.StartAsync(app => app.MapGet("/v1/nodes", () => Results.Text(NodesJson, "application/json")));
        using var client = Client(breaking.Url, healthy.Url);
        Assert.Single(await client.ListNodesAsync());
        Assert.Equal(1, first);
    }

    [Fact]
    public async Task When_no_silo_answers_the_error_names_every_url_tried()
    {
        Uri a = TestSilo.Refusing(), b = TestSilo.Refusing();
        using var client = Client(a, b);
        var e = await Assert.ThrowsAsync<SiloUnreachableException>(() => client.ListNodesAsync());
        Assert.Equal([a, b], e.Attempts.Select(x => x.Url));
        Assert.Equal($"no silo answered; tried {a.ToString().TrimEnd('/')} (connection refused), {b.ToString().TrimEnd('/')} (connection refused)", e.Message);
    }

    [Fact]
    public async Task A_query_fails_over_when_the_first_silo_refuses()
    {
        await using var silo = await TestSilo.StartAsync(app => app.MapPost("/v1/queries/{name}", (string name) =>
            Results.Text("""{"type":"done","acks":0,"responses":0}""" + "\n", "application/x-ndjson")));
        using var client = Client(TestSilo.Refusing(), silo.Url);
        var messages = new List<QueryMessage>();
        await foreach (var m in client.QueryAsync("uptime", default)) messages.Add(m);
        Assert.Equal([new QueryMessage("done")], messages);
    }

    [Fact]
    public async Task Api_errors_carry_the_silos_message_and_status()
    {
        await using var silo = await TestSilo.StartAsync(app => app.MapPost("/v1/nodes/{name}/force-leave", (string name) =>
            Results.Json(new { error = $"node '{name}' is not known" }, statusCode: 404)));
        using var client = Client(silo.Url);
        var e = await Assert.ThrowsAsync<PlatformApiException>(() => client.ForceLeaveAsync("ghost"));
        Assert.Equal(HttpStatusCode.NotFound, e.Status);
        Assert.Equal("node 'ghost' is not known", e.Message);
    }

    [Fact]
    public async Task Query_lines_are_yielded_as_they_arrive()
    {
        var ackSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? query = null;
        await using var silo = await TestSilo.StartAsync(app => app.MapPost("/v1/queries/{name}", async (HttpContext context) =>
        {
            query = context.Request.QueryString.Value;
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.WriteAsync("""{"type":"ack","from":"n1"}""" + "\n");
            await context.Response.Body.FlushAsync();
            await ackSeen.Task; // the rest only once the client has read the ack
            await context.Response.WriteAsync("""{"type":"response","from":"n1","payload":"aGk="}""" + "\n" + """{"type":"done","acks":1,"responses":1}""" + "\n");
        }));
        using var client = Client(silo.Url);
        var options = new QueryOptions { Nodes = ["n1"], Tags = [new TagFilter("role", "web")], Timeout = TimeSpan.FromSeconds(2), RequestAck = true };
        await using var messages = client.QueryAsync("uptime", Encoding.UTF8.GetBytes("p"), options).GetAsyncEnumerator();
        Assert.True(await messages.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new QueryMessage("ack", "n1"), messages.Current);
        ackSeen.SetResult();
        Assert.True(await messages.MoveNextAsync());
        Assert.Equal("response", messages.Current.Type);
        Assert.Equal("hi", Encoding.UTF8.GetString(messages.Current.Payload!));
        Assert.True(await messages.MoveNextAsync());
        Assert.Equal(new QueryMessage("done", Acks: 1, Responses: 1), messages.Current);
        Assert.False(await messages.MoveNextAsync());
        Assert.Equal("?node=n1&tag=role%3Dweb&timeout=2s", query);
    }
}
