using System.Globalization;
using Platform.Grains.Builds;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// GET /v1/builds/{id}/jobs/{job}/log: a job attempt's log (<c>?attempt=</c>, default the latest), whole, as a byte range
/// (<c>Range: bytes=a-b</c>, answered 206), or followed (<c>?follow=true</c>) as it grows until the attempt ends.
/// </summary>
internal static class BuildLogEndpoints
{
    /// <summary>Serves <c>/v1/builds/{path}</c> where the path ends in <c>/jobs/{job}/log</c>.</summary>
    public static async Task Log(string path, HttpContext context, IGrainFactory grains)
    {
        var response = context.Response;
        var parts = path.Split('/');
        if (parts.Length < 4 || parts[^3] != "jobs")
        {
            await BuildsJson.Error(404, $"no such log route '/v1/builds/{path}'; expected /v1/builds/{{id}}/jobs/{{job}}/log").ExecuteAsync(context);
            return;
        }
        var id = string.Join('/', parts[..^3]);
        var key = parts[^2];
        if (await grains.GetGrain<IBuildGrain>(id).Get() is not { } build)
        {
            await BuildsJson.Error(404, $"build '{id}' does not exist").ExecuteAsync(context);
            return;
        }
        if (build.Job(key) is not { } job)
        {
            await BuildsJson.Error(404, $"build '{id}' has no job '{key}'; its jobs are {string.Join(", ", build.Jobs.Select(j => j.Key))}").ExecuteAsync(context);
            return;
        }
        var attempt = job.Attempt;
        var attemptText = context.Request.Query["attempt"].ToString();
        if (attemptText.Length != 0 && (!int.TryParse(attemptText, NumberStyles.None, CultureInfo.InvariantCulture, out attempt) || attempt < 1 || attempt > job.Attempt))
        {
            await BuildsJson.Error(400, $"attempt '{attemptText}' is not an attempt of job '{key}'; expected 1 to {job.Attempt}").ExecuteAsync(context);
            return;
        }
        response.Headers["X-Platform-Attempt"] = attempt.ToString(CultureInfo.InvariantCulture);
        var log = grains.GetGrain<IJobLogGrain>(BuildGrainKeys.Log(BuildGrainKeys.Job(id, key), attempt));
        // A follower also stops when the attempt is over though the log's end mark was not stored (its build says so).
        await LogResponse.WriteAsync(context, log, () => AttemptOver(grains, id, key, attempt), BuildsJson.Error);
    }

    private static async Task<bool> AttemptOver(IGrainFactory grains, string id, string key, int attempt)
        => await grains.GetGrain<IBuildGrain>(id).Get() is not { } build || build.Job(key) is not { } job || job.Attempt != attempt || JobStates.IsFinal(job.State);
}
