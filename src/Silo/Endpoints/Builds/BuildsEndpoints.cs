using System.Globalization;
using System.Text.Json;
using Platform.Grains.Builds;
using Platform.Runtime;
using Platform.Silo.Access;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>/v1/builds: list (filters repo, branch, state), show, start, cancel, retry; /v1/queue: what waits and why.</summary>
public static class BuildsEndpoints
{
    private static readonly string[] s_buildStates =
        [JobStates.Scheduled, JobStates.Running, JobStates.Canceling, JobStates.Passed, JobStates.Failed, JobStates.Canceled, JobStates.Skipped];

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

    private static async Task<IResult> List(HttpRequest request, IGrainFactory grains)
    {
        var repo = request.Query["repo"].ToString();
        var branch = request.Query["branch"].ToString();
        var state = request.Query["state"].ToString();
        var limitText = request.Query["limit"].ToString();
        var limit = 50;
        if (limitText.Length != 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
            return BuildsJson.Error(400, $"limit '{limitText}' is not a number from 1 to 1000");
        if (state.Length != 0 && !s_buildStates.Contains(state))
            return BuildsJson.Error(400, $"state '{state}' is not a build state; expected one of {string.Join(", ", s_buildStates)}");
        if (repo.Length != 0 && BuildsJson.CheckRepository(repo) is { } bad) return BuildsJson.Error(400, bad);
        var repositories = repo.Length != 0 ? [repo] : await grains.GetGrain<IRepositoryIndexGrain>("default").Names();
        var builds = new List<BuildSummary>();
        foreach (var name in repositories)
        {
            foreach (var id in await grains.GetGrain<IRepositoryGrain>(name).Builds(limit))
            {
                if (await grains.GetGrain<IBuildGrain>(id).Get() is not { } build) continue;
                if ((branch.Length == 0 || build.Branch == branch) && (state.Length == 0 || build.State == state)) builds.Add(BuildsJson.Summary(build));
            }
        }
        builds.Sort((a, b) => b.Created.CompareTo(a.Created));
        if (builds.Count > limit) builds.RemoveRange(limit, builds.Count - limit);
        return TypedResults.Ok(builds);
    }

    private static async Task<IResult> Start(HttpContext context, IGrainFactory grains, AuditLog audit)
    {
        StartBody? body;
        try
        {
            body = await context.Request.ReadFromJsonAsync<StartBody>(context.RequestAborted);
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

    private static async Task Show(string id, HttpContext context, IGrainFactory grains)
    {
        if (id.EndsWith("/log", StringComparison.Ordinal))
        {
            await BuildLogEndpoints.Log(id, context, grains);
            return;
        }
        var result = await grains.GetGrain<IBuildGrain>(id).Get() is { } build
            ? TypedResults.Ok(build)
            : BuildsJson.Error(404, $"build '{id}' does not exist");
        await result.ExecuteAsync(context);
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

    private static async Task<IResult> Queue(IGrainFactory grains) => TypedResults.Ok(await grains.GetGrain<IBuildQueueGrain>("default").View());
}
