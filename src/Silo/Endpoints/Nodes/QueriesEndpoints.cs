using System.Text.Json;
using Platform.Grains.Nodes;
using Platform.Protocol;
using Platform.Runtime;
using Platform.Silo.Agents;
using Platform.Silo.Endpoints.Consul;

namespace Platform.Silo.Endpoints.Nodes;

/// <summary>
/// POST /v1/queries/{name}: runs a query (Serf's): the answer streams NDJSON acks and responses as they arrive and
/// ends with a done line at the timeout, or as soon as every node the query reached has answered.
/// </summary>
public static class QueriesEndpoints
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    public static IEndpointRouteBuilder MapQueriesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/queries").MapPost("/{name}", Run);
        return app;
    }

    private static async Task<IResult> Run(string name, HttpContext context, AgentHub hub, IGrainFactory grains)
    {
        var request = context.Request;
        if (string.IsNullOrEmpty(name)) return NodesJson.Error(400, "query name is empty; expected a name such as 'load'");
        if (name[0] == '_') return NodesJson.Error(400, $"query name '{name}' starts with '_', which is reserved");
        var ackText = request.Query["ack"].ToString();
        var ack = true;
        if (ackText.Length != 0 && !bool.TryParse(ackText, out ack)) return NodesJson.Error(400, $"ack '{ackText}' is not true or false");
        var timeoutMs = 0;
        var timeoutText = request.Query["timeout"].ToString();
        if (timeoutText.Length != 0)
        {
            if (!GoDuration.TryParse(timeoutText, out var timeout) || timeout <= TimeSpan.Zero || timeout > TimeSpan.FromHours(1))
                return NodesJson.Error(400, $"timeout '{timeoutText}' is not a duration from 1ms to 1h such as '5s' or '500ms'");
            timeoutMs = (int)Math.Max(1, timeout.TotalMilliseconds);
        }
        var nodes = new List<string>();
        foreach (var n in request.Query["node"])
            if (!string.IsNullOrEmpty(n)) nodes.Add(n);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var filter in request.Query["tag"])
        {
            var eq = filter?.IndexOf('=') ?? -1;
            if (eq <= 0) return NodesJson.Error(400, $"tag filter '{filter}' is not key=regexp");
            tags[filter![..eq]] = filter[(eq + 1)..];
        }
        try
        {
            AgentHub.CompileTagFilters(tags);
        }
        catch (ArgumentException e)
        {
            return NodesJson.Error(400, e.Message);
        }
        var limit = hub.Options.QuerySizeLimit;
        var payload = await NodesBody.ReadAsync(request, limit + 1);
        var size = System.Text.Encoding.UTF8.GetByteCount(name) + payload.Length;
        if (size > limit) return NodesJson.Error(400, $"query '{name}' is {(payload.Length > limit ? "over " + limit : size)} bytes (name + payload); the limit is {limit} bytes");

        var collector = new QueryCollector(ack);
        var reference = grains.CreateObjectReference<IQueryCollector>(collector);
        try
        {
            var query = new FleetQuery(Guid.NewGuid().ToString("N"), name, payload, ack, nodes, tags, 0, timeoutMs);
            var start = await hub.Fleet.StartQuery(query, reference);
            collector.ExpectHubs(start.Hubs);
            await Stream(context, collector, TimeSpan.FromMilliseconds(start.Query.TimeoutMs));
        }
        finally
        {
            grains.DeleteObjectReference(reference);
        }
        return Results.Empty;
    }

    private static async Task Stream(HttpContext context, QueryCollector collector, TimeSpan timeout)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.ContentType = "application/x-ndjson";
        await response.StartAsync(aborted);
        // The headers go out now, so a client sees the stream open before the first line.
        await response.Body.FlushAsync(aborted);
        using var deadline = new CancellationTokenSource(timeout);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, aborted);
        var timedOut = Task.Delay(Timeout.Infinite, either.Token);
        while (true)
        {
            while (collector.Answers.TryRead(out var answer))
                await Write(response, new QueryLine(answer.Type, answer.From, answer.Payload, null, null), aborted);
            await response.Body.FlushAsync(aborted);
            if (collector.Complete.IsCompleted || timedOut.IsCompleted) break;
            await Task.WhenAny(collector.Answers.WaitToReadAsync(either.Token).AsTask(), collector.Complete, timedOut);
        }
        aborted.ThrowIfCancellationRequested();
        while (collector.Answers.TryRead(out var late))
            await Write(response, new QueryLine(late.Type, late.From, late.Payload, null, null), aborted);
        await Write(response, new QueryLine("done", null, null, collector.Acks, collector.Responses), aborted);
        await response.Body.FlushAsync(aborted);
    }

    private static async Task Write(HttpResponse response, QueryLine line, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, s_json), cancellationToken);
        await response.Body.WriteAsync(s_newline, cancellationToken);
    }

    /// <summary>One NDJSON line of a query's answer.</summary>
    private sealed record QueryLine(string Type, string? From, byte[]? Payload, int? Acks, int? Responses);
}
