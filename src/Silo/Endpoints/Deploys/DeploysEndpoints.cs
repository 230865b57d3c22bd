using System.Globalization;
using System.Text.Json;
using Platform.Grains.Deploys;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>/v1/deploys: start, list, show, cancel, and a node's output (docs/deploys.md, "HTTP API").</summary>
public static class DeploysEndpoints
{
    /// <summary>The largest request body: an inline manifest is a small YAML file.</summary>
    public const int BodyLimit = 1 << 20;

    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(200);

    public static IEndpointRouteBuilder MapDeploysEndpoints(this IEndpointRouteBuilder app)
    {
        var deploys = app.MapGroup("/v1/deploys");
        deploys.MapPost("", Start);
        deploys.MapGet("", List);
        deploys.MapGet("/{id}", Show);
        deploys.MapDelete("/{id}", Cancel);
        deploys.MapGet("/{id}/logs", Logs);
        return app;
    }

    private static async Task<IResult> Start(HttpRequest request, IGrainFactory grains)
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
        return TypedResults.Json(DeploysJson.Render(started.Deploy), DeploysJson.Options, statusCode: 201);
    }

    private static async Task<IResult> List(HttpRequest request, IGrainFactory grains)
    {
        var limitText = request.Query["limit"].ToString();
        var limit = 50;
        if (limitText.Length != 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
            return DeploysJson.Error(400, $"limit '{limitText}': expected a whole number of 1 or more");
        var target = request.Query["target"].ToString();
        var list = await grains.GetGrain<IDeployIndexGrain>("default").List(target.Length == 0 ? null : target, limit);
        return TypedResults.Json(list, DeploysJson.Options);
    }

    private static async Task<IResult> Show(string id, IGrainFactory grains)
        => await grains.GetGrain<IDeployGrain>(id).Get() is { } deploy
            ? TypedResults.Json(DeploysJson.Render(deploy), DeploysJson.Options)
            : DeploysJson.Error(404, $"deploy '{id}' not found");

    private static async Task<IResult> Cancel(string id, HttpRequest request, IGrainFactory grains)
    {
        var stopText = request.Query["stop"].ToString();
        var stop = false;
        if (stopText.Length != 0 && !bool.TryParse(stopText, out stop)) return DeploysJson.Error(400, $"stop '{stopText}': expected true or false");
        return await grains.GetGrain<IDeployGrain>(id).Cancel(stop) is { } deploy
            ? TypedResults.Json(DeploysJson.Render(deploy), DeploysJson.Options)
            : DeploysJson.Error(404, $"deploy '{id}' not found");
    }

    /// <summary>A node's output as text; with <c>follow=true</c> streamed until the node ends.</summary>
    private static async Task Logs(string id, HttpContext context, IGrainFactory grains)
    {
        var request = context.Request;
        var response = context.Response;
        var followText = request.Query["follow"].ToString();
        var follow = false;
        if (followText.Length != 0 && !bool.TryParse(followText, out follow))
        {
            await DeploysJson.Error(400, $"follow '{followText}': expected true or false").ExecuteAsync(context);
            return;
        }
        var grain = grains.GetGrain<IDeployGrain>(id);
        if (await grain.Get() is not { } deploy)
        {
            await DeploysJson.Error(404, $"deploy '{id}' not found").ExecuteAsync(context);
            return;
        }
        var node = request.Query["node"].ToString();
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
        response.ContentType = "text/plain; charset=utf-8";
        var aborted = context.RequestAborted;
        long offset = 0;
        while (!aborted.IsCancellationRequested)
        {
            var read = await grain.ReadLog(node, offset);
            if (read.Data.Length != 0)
            {
                await response.Body.WriteAsync(read.Data, aborted);
                await response.Body.FlushAsync(aborted);
            }
            offset = read.Offset + read.Data.Length;
            if (!follow || read.Done) return;
            try
            {
                await Task.Delay(FollowPoll, aborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
