using System.Text.Json;
using Platform.Grains.Builds;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>/v1/repos: register a repository (clone URL, hook secret, options), show it (never its secret), list, forget.</summary>
public static class ReposEndpoints
{
    public static IEndpointRouteBuilder MapReposEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/repos", List);
        app.MapPut("/v1/repos/{**name}", Put);
        app.MapGet("/v1/repos/{**name}", Get);
        app.MapDelete("/v1/repos/{**name}", Delete);
        return app;
    }

    private static async Task<IResult> List(IGrainFactory grains)
    {
        var views = new List<RepositoryView>();
        foreach (var name in await grains.GetGrain<IRepositoryIndexGrain>("default").Names())
            if (await grains.GetGrain<IRepositoryGrain>(name).Get() is { } view) views.Add(view);
        return TypedResults.Ok(views);
    }

    private static async Task<IResult> Put(string name, HttpRequest request, IGrainFactory grains)
    {
        if (BuildsJson.CheckRepository(name) is { } bad) return BuildsJson.Error(400, bad);
        RepositoryBody? body;
        try
        {
            body = await RequestJson.ReadAsync<RepositoryBody>(request);
        }
        catch (JsonException e)
        {
            return BuildsJson.Error(400, $"the body is not a repository: {e.Message}; expected {{\"cloneUrl\": \"...\", \"secret\": \"...\", \"cancelRunning\": false, \"priority\": 0}}");
        }
        if (body is null || string.IsNullOrWhiteSpace(body.CloneUrl))
            return BuildsJson.Error(400, "cloneUrl is missing; expected the URL agents clone the repository from");
        if (body.Secret is { Length: 0 }) return BuildsJson.Error(400, "secret is empty; give the hook secret, or leave it out to keep the one stored");
        var view = await grains.GetGrain<IRepositoryGrain>(name).Put(new RepositorySettings(body.CloneUrl, body.Secret, body.CancelRunning ?? false, body.Priority ?? 0));
        return TypedResults.Ok(view);
    }

    private static async Task<IResult> Get(string name, IGrainFactory grains)
    {
        if (BuildsJson.CheckRepository(name) is { } bad) return BuildsJson.Error(400, bad);
        return await grains.GetGrain<IRepositoryGrain>(name).Get() is { } view
            ? TypedResults.Ok(view)
            : BuildsJson.Error(404, $"repository '{name}' is not registered");
    }

    private static async Task<IResult> Delete(string name, IGrainFactory grains)
    {
        if (BuildsJson.CheckRepository(name) is { } bad) return BuildsJson.Error(400, bad);
        return await grains.GetGrain<IRepositoryGrain>(name).Delete()
            ? TypedResults.NoContent()
            : BuildsJson.Error(404, $"repository '{name}' is not registered");
    }
}
