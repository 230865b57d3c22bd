using System.Text.Json;
using Platform.Grains.Builds;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>/v1/builds: list (filters repo, branch, state; paged; followed), show (followed), start, cancel, retry; /v1/queue: what waits and why (followed).</summary>
public static class BuildsEndpoints
{
    public static IEndpointRouteBuilder MapBuildsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/builds", List);
        app.MapPost("/v1/builds", Start);
        app.MapGet("/v1/queue", Queue);
        // Build ids hold the repository's slashes: /v1/builds/team/app/12[/cancel|/retry|/jobs/{job}/log].
        app.MapGet("/v1/builds/{**id}", Show);
        app.MapPost("/v1/builds/{**path}", Act);
        return app;
    }

    private static async Task List(HttpContext context, IGrainFactory grains, BuildsFeed feed)
    {
        var (query, error) = BuildsList.Parse(context.Request);
        if (query is null)
        {
            await BuildsJson.Error(400, error!).ExecuteAsync(context);
            return;
        }
        if (query.Follow)
        {
            await BuildsFollowEndpoints.List(context, grains, feed, query);
            return;
        }
        var page = await BuildsList.PageAsync(grains, query);
        if (page.NextBefore is { } next) context.Response.Headers["X-Platform-Next-Before"] = next;
        await TypedResults.Ok(page.Builds).ExecuteAsync(context);
    }

    private static async Task<IResult> Start(HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        StartBody? body;
        try
        {
            body = await RequestJson.ReadAsync<StartBody>(context.Request);
        }
        catch (JsonException e)
        {
            return BuildsJson.Error(400, $"the body is not a build to start: {e.Message}; expected {{\"repo\": \"team/app\", \"branch\": \"main\", \"commit\": \"<sha>\"}}");
        }
        if (BuildsJson.CheckRepository(body?.Repo) is { } bad) return BuildsJson.Error(400, bad);
        if (string.IsNullOrWhiteSpace(body!.Branch)) return BuildsJson.Error(400, "branch is missing; expected the branch to build, such as main");
        var commit = body.Commit ?? "";
        if (commit.Length != 0 && (commit.Length is < 7 or > 64 || !commit.All(char.IsAsciiHexDigit)))
            return BuildsJson.Error(400, $"commit '{commit}' is not a commit id; expected 7 to 64 hex digits, or none to build the branch's head");
        var actor = AccessMiddleware.ActorOf(context);
        var result = await grains.GetGrain<IRepositoryGrain>(body.Repo!).Start(body.Branch, commit, "api", actor);
        if (result.BuildId is not { } id) return BuildsJson.Error(404, result.Error!);
        await audit.RecordAsync(context, "build.start", id);
        var build = await grains.GetGrain<IBuildGrain>(id).Get();
        return TypedResults.Created($"/v1/builds/{id}", build);
    }

    private static async Task Show(string id, HttpContext context, IGrainFactory grains, BuildsFeed feed)
    {
        if (id.EndsWith("/log", StringComparison.Ordinal))
        {
            await BuildLogEndpoints.Log(id, context, grains);
            return;
        }
        if (Follow(context, out var follow) is { } bad)
        {
            await BuildsJson.Error(400, bad).ExecuteAsync(context);
            return;
        }
        if (await grains.GetGrain<IBuildGrain>(id).Get() is not { } build)
        {
            await BuildsJson.Error(404, $"build '{id}' does not exist").ExecuteAsync(context);
            return;
        }
        if (follow) await BuildsFollowEndpoints.Build(context, grains, feed, id);
        else await TypedResults.Ok(build).ExecuteAsync(context);
    }

    /// <summary>Reads <c>?follow=</c>; null when it is absent, true or false, else why not.</summary>
    private static string? Follow(HttpContext context, out bool follow)
    {
        follow = false;
        var text = context.Request.Query["follow"].ToString();
        return text.Length == 0 || bool.TryParse(text, out follow) ? null : $"follow '{text}' is not true or false";
    }

    private static async Task<IResult> Act(string path, HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        var slash = path.LastIndexOf('/');
        var action = slash < 0 ? "" : path[(slash + 1)..];
        if (action is not ("cancel" or "retry"))
            return BuildsJson.Error(404, $"no build action at '/v1/builds/{path}'; expected POST /v1/builds/{{id}}/cancel or /retry");
        var id = path[..slash];
        var build = grains.GetGrain<IBuildGrain>(id);
        if (await build.Get() is null) return BuildsJson.Error(404, $"build '{id}' does not exist");
        var refused = action == "cancel" ? await build.Cancel() : await build.Retry();
        if (refused is not null) return BuildsJson.Error(409, refused);
        await audit.RecordAsync(context, "build." + action, id);
        return TypedResults.Ok(await build.Get());
    }

    private static async Task Queue(HttpContext context, IGrainFactory grains, BuildsFeed feed)
    {
        if (Follow(context, out var follow) is { } bad) await BuildsJson.Error(400, bad).ExecuteAsync(context);
        else if (follow) await BuildsFollowEndpoints.Queue(context, grains, feed);
        else await TypedResults.Ok(await grains.GetGrain<IBuildQueueGrain>("default").View()).ExecuteAsync(context);
    }
}
