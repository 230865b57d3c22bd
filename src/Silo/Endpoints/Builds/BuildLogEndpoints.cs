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
    private const int ReadSize = 256 * 1024;

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
        var followText = context.Request.Query["follow"].ToString();
        var follow = false;
        if (followText.Length != 0 && !bool.TryParse(followText, out follow))
        {
            await BuildsJson.Error(400, $"follow '{followText}' is not true or false").ExecuteAsync(context);
            return;
        }
        long from = 0;
        long? to = null;
        var range = context.Request.Headers.Range.ToString();
        if (range.Length != 0 && !TryParseRange(range, out from, out to))
        {
            await BuildsJson.Error(416, $"Range '{range}' is not one byte range; expected bytes=FIRST-[LAST]").ExecuteAsync(context);
            return;
        }
        var log = grains.GetGrain<IJobLogGrain>(BuildGrainKeys.Log(BuildGrainKeys.Job(id, key), attempt));
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers["X-Platform-Attempt"] = attempt.ToString(CultureInfo.InvariantCulture);
        var first = await log.Read(from, ReadSize, 0);
        if (range.Length != 0)
        {
            if (from > first.Length && first.Ended)
            {
                response.StatusCode = 416;
                response.Headers.ContentRange = $"bytes */{first.Length}";
                return;
            }
            var last = Math.Min(to ?? long.MaxValue, first.Length - 1);
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {from}-{last}/{(first.Ended ? first.Length.ToString(CultureInfo.InvariantCulture) : "*")}";
            follow = false;
        }
        var offset = from;
        var slice = first;
        var ct = context.RequestAborted;
        while (true)
        {
            var data = slice.Data.AsMemory();
            if (to is { } end && offset + data.Length > end + 1) data = data[..(int)Math.Max(0, end + 1 - offset)];
            if (data.Length != 0)
            {
                await response.Body.WriteAsync(data, ct);
                if (follow) await response.Body.FlushAsync(ct);
                offset += data.Length;
            }
            if (to is { } stop && offset > stop) return;
            if (slice.Data.Length == 0)
            {
                if (!follow || slice.Ended) return;
                // A follower also stops when the attempt is over though the log's end mark was not stored (its build says so).
                if (await AttemptOver(grains, id, key, attempt))
                {
                    var rest = await log.Read(offset, ReadSize, 0);
                    if (rest.Data.Length != 0) await response.Body.WriteAsync(rest.Data, ct);
                    return;
                }
            }
            slice = await log.Read(offset, ReadSize, follow ? 15_000 : 0);
            if (!follow && slice.Data.Length == 0) return;
        }
    }

    private static async Task<bool> AttemptOver(IGrainFactory grains, string id, string key, int attempt)
        => await grains.GetGrain<IBuildGrain>(id).Get() is not { } build || build.Job(key) is not { } job || job.Attempt != attempt || JobStates.IsFinal(job.State);

    private static bool TryParseRange(string header, out long from, out long? to)
    {
        from = 0;
        to = null;
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',')) return false;
        var spec = header[6..];
        var dash = spec.IndexOf('-');
        if (dash <= 0 || !long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out from)) return false;
        if (dash == spec.Length - 1) return true;
        if (!long.TryParse(spec[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last < from) return false;
        to = last;
        return true;
    }
}
