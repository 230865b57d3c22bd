using System.Globalization;
using System.Text.Json;
using Platform.Grains.Builds;
using Platform.Grains.Deploys;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>/v1/deploys: start, list, show, cancel, and a node's output (docs/deploys.md, "HTTP API").</summary>
public static class DeploysEndpoints
{
    /// <summary>The largest request body: an inline manifest is a small YAML file.</summary>
    public const int BodyLimit = 1 << 20;

    public static IEndpointRouteBuilder MapDeploysEndpoints(this IEndpointRouteBuilder app)
    {
        var deploys = app.MapGroup("/v1/deploys");
        deploys.MapPost("", Start);
        deploys.MapGet("", List);
        deploys.MapGet("/{id}", Show);
        deploys.MapDelete("/{id}", Cancel);
        deploys.MapGet("/{id}/logs", Logs);
        deploys.MapGet("/{id}/nodes/{node}/log", NodeLog);
        return app;
    }

    private static async Task<IResult> Start(HttpRequest request, IGrainFactory grains, AuditLog audit)
    {
        DeploySpec spec;
        try
        {
            if (request.ContentLength > BodyLimit) return DeploysJson.Error(413, $"body: more than {BodyLimit} bytes; an inline manifest must be smaller");
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            spec = DeployRequest.Parse(body.RootElement);
        }
        catch (JsonException e)
        {
            return DeploysJson.Error(400, $"body: not valid JSON ({e.Message})");
        }
        catch (DeployRequestException e)
        {
            return DeploysJson.Error(400, e.Message);
        }
        // Time-ordered ids read well in a history; the random half keeps two starts in one millisecond apart.
        var id = $"{DateTimeOffset.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid().ToString("N")[..6]}";
        var started = await grains.GetGrain<IDeployGrain>(id).Start(spec);
        if (started.Deploy is null) return DeploysJson.Error(started.ErrorStatus, started.Error!);
        await audit.RecordAsync(request.HttpContext, "deploy.start", id);
        return TypedResults.Json(DeploysJson.Render(started.Deploy), DeploysJson.Options, statusCode: 201);
    }

    private static async Task<IResult> List(HttpRequest request, IGrainFactory grains, DeployWatch watch)
    {
        if (!TryFollow(request, out var follow, out var bad)) return bad!;
        var limitText = request.Query["limit"].ToString();
        var limit = 50;
        if (limitText.Length != 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
            return DeploysJson.Error(400, $"limit '{limitText}': expected a whole number of 1 or more");
        var target = request.Query["target"].ToString();
        if (follow) return new DeployStream(context => FollowHistory(context, grains, watch, target, limit));
        var list = await DeployHistory.List(grains, target.Length == 0 ? null : target, limit);
        return TypedResults.Json(list, DeploysJson.Options);
    }

    private static async Task<IResult> Show(string id, HttpRequest request, IGrainFactory grains, DeployWatch watch)
    {
        if (!TryFollow(request, out var follow, out var bad)) return bad!;
        if (await grains.GetGrain<IDeployGrain>(id).Get() is not { } deploy) return DeploysJson.Error(404, $"deploy '{id}' not found");
        if (follow) return new DeployStream(context => FollowDeploy(context, grains, watch, id));
        return TypedResults.Json(DeploysJson.Render(deploy), DeploysJson.Options);
    }

    private static bool TryFollow(HttpRequest request, out bool follow, out IResult? bad)
    {
        var text = request.Query["follow"].ToString();
        follow = false;
        bad = null;
        if (text.Length == 0 || bool.TryParse(text, out follow)) return true;
        bad = DeploysJson.Error(400, $"follow '{text}': expected true or false");
        return false;
    }

    /// <summary>
    /// The deploy as a line, then a line each time it changes (its status, its batch, any node's state), ending once the
    /// deploy is over. Subscribed before the deploy is read, so no change falls between; a line older than one sent is dropped.
    /// </summary>
    private static async Task FollowDeploy(HttpContext context, IGrainFactory grains, DeployWatch watch, string id)
    {
        var ct = context.RequestAborted;
        using var follower = await watch.FollowDeploy(id, ct);
        if (await grains.GetGrain<IDeployGrain>(id).Get() is not { } now) return;
        follower.Offer(id, now, now.Revision);
        await StartNdjson(context.Response, ct);
        while (true)
        {
            DeployView? last = null;
            foreach (var deploy in await follower.TakeAsync(ct))
            {
                await WriteLine(context.Response, DeploysJson.Render(deploy), ct);
                last = deploy;
            }
            await context.Response.Body.FlushAsync(ct);
            if (last is not null && last.Status != DeployStatus.Running) return;
        }
    }

    /// <summary>The history (filtered and limited as without follow), a summary a line, newest first; then every summary recorded from then on that passes the filter. Ends only when the client goes.</summary>
    private static async Task FollowHistory(HttpContext context, IGrainFactory grains, DeployWatch watch, string target, int limit)
    {
        var ct = context.RequestAborted;
        using var follower = await watch.FollowHistory(ct);
        var list = await DeployHistory.List(grains, target.Length == 0 ? null : target, limit);
        await StartNdjson(context.Response, ct);
        foreach (var summary in list) await WriteLine(context.Response, summary, ct);
        await context.Response.Body.FlushAsync(ct);
        while (true)
        {
            foreach (var summary in await follower.TakeAsync(ct))
                if (target.Length == 0 || summary.Target.Contains(target, StringComparison.Ordinal)) await WriteLine(context.Response, summary, ct);
            await context.Response.Body.FlushAsync(ct);
        }
    }

    private static async Task StartNdjson(HttpResponse response, CancellationToken ct)
    {
        response.ContentType = "application/x-ndjson";
        await response.StartAsync(ct);
        await response.Body.FlushAsync(ct);
    }

    private static async Task WriteLine<T>(HttpResponse response, T value, CancellationToken ct)
    {
        await JsonSerializer.SerializeAsync(response.Body, value, DeploysJson.Options, ct);
        await response.Body.WriteAsync("\n"u8.ToArray(), ct);
    }

    /// <summary>A streamed answer; a client that goes away ends it quietly.</summary>
    private sealed class DeployStream(Func<HttpContext, Task> write) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            try
            {
                await write(httpContext);
            }
            catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
            {
            }
        }
    }

    private static async Task<IResult> Cancel(string id, HttpRequest request, IGrainFactory grains)
    {
        var stopText = request.Query["stop"].ToString();
        var stop = false;
        if (stopText.Length != 0 && !bool.TryParse(stopText, out stop)) return DeploysJson.Error(400, $"stop '{stopText}': expected true or false");
        return await grains.GetGrain<IDeployGrain>(id).Cancel(stop) is { } deploy
            ? TypedResults.Json(DeploysJson.Render(deploy), DeploysJson.Options)
            : DeploysJson.Error(404, $"deploy '{id}' not found");
    }

    /// <summary><c>/{id}/logs?node=N</c>: a node's output (<c>node</c> may be left out for a one-node deploy).</summary>
    private static Task Logs(string id, HttpContext context, IGrainFactory grains) => NodeLog(id, context.Request.Query["node"].ToString(), context, grains);

    /// <summary>
    /// A node's output as text, from its log grain (durable, written by the agent chunk by chunk): whole, one byte range, or
    /// followed with <c>follow=true</c> until the node ends. A node that ended with no output stored (its agent refused the
    /// deploy, or restarted mid-run) answers the tail its result carried.
    /// </summary>
    private static async Task NodeLog(string id, string node, HttpContext context, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IDeployGrain>(id);
        if (await grain.Get() is not { } deploy)
        {
            await DeploysJson.Error(404, $"deploy '{id}' not found").ExecuteAsync(context);
            return;
        }
        if (node.Length == 0)
        {
            if (deploy.Nodes.Count != 1)
            {
                await DeploysJson.Error(400, $"node: required; deploy '{id}' runs on {deploy.Nodes.Count} nodes").ExecuteAsync(context);
                return;
            }
            node = deploy.Nodes[0].Node;
        }
        else if (!deploy.Nodes.Exists(n => n.Node == node))
        {
            await DeploysJson.Error(404, $"node '{node}' is not in deploy '{id}'").ExecuteAsync(context);
            return;
        }
        var log = grains.GetGrain<IJobLogGrain>(DeployLogKeys.Log(id, node));
        var run = deploy.Nodes.Find(n => n.Node == node)!;
        if (DeployNodeStatus.IsFinal(run.Status) && run.OutputTail.Length != 0 && context.Request.Headers.Range.Count == 0
            && (await log.Read(0, 1, 0)).Length == 0)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(run.OutputTail, context.RequestAborted);
            return;
        }
        await LogResponse.WriteAsync(context, log, () => NodeOver(grain, node), DeploysJson.Error);
    }

    /// <summary>The node's run ended (or the deploy is gone): a follower stops at the end of what is stored.</summary>
    private static async Task<bool> NodeOver(IDeployGrain grain, string node)
        => await grain.Get() is not { } deploy || deploy.Nodes.Find(n => n.Node == node) is not { } run || DeployNodeStatus.IsFinal(run.Status);
}
