using System.Globalization;
using Platform.Grains.Builds;
using Platform.Runtime;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// A page of <c>GET /v1/builds</c>: newest first (by creation, then id), filtered, older than a cursor. The cursor of a
/// build is <c>{created, UTC ticks}_{id}</c>; a full page names the next one in <c>X-Platform-Next-Before</c>.
/// </summary>
internal static class BuildsList
{
    /// <summary>What a repository lists at most (its latest build numbers).</summary>
    private const int Listed = 500;

    private static readonly string[] s_buildStates =
        [JobStates.Scheduled, JobStates.Running, JobStates.Canceling, JobStates.Passed, JobStates.Failed, JobStates.Canceled, JobStates.Skipped];

    public sealed record Query(string Repository, string Branch, string State, int Limit, (DateTimeOffset Created, string Id)? Before, bool Follow);

    public sealed record Page(List<BuildSummary> Builds, string? NextBefore);

    /// <summary>The query of a request, or why it is not one.</summary>
    public static (Query? Query, string? Error) Parse(HttpRequest request)
    {
        var repo = request.Query["repo"].ToString();
        var branch = request.Query["branch"].ToString();
        var state = request.Query["state"].ToString();
        var limitText = request.Query["limit"].ToString();
        var beforeText = request.Query["before"].ToString();
        var followText = request.Query["follow"].ToString();
        var limit = 50;
        if (limitText.Length != 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
            return (null, $"limit '{limitText}' is not a number from 1 to 1000");
        if (state.Length != 0 && !s_buildStates.Contains(state))
            return (null, $"state '{state}' is not a build state; expected one of {string.Join(", ", s_buildStates)}");
        if (repo.Length != 0 && BuildsJson.CheckRepository(repo) is { } bad) return (null, bad);
        var follow = false;
        if (followText.Length != 0 && !bool.TryParse(followText, out follow)) return (null, $"follow '{followText}' is not true or false");
        (DateTimeOffset, string)? before = null;
        if (beforeText.Length != 0)
        {
            var cut = beforeText.IndexOf('_');
            if (cut <= 0 || !long.TryParse(beforeText.AsSpan(0, cut), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks > DateTimeOffset.MaxValue.UtcTicks || cut == beforeText.Length - 1)
                return (null, $"before '{beforeText}' is not a cursor; expected the X-Platform-Next-Before of an earlier page");
            before = (new DateTimeOffset(ticks, TimeSpan.Zero), beforeText[(cut + 1)..]);
        }
        if (follow && before is not null) return (null, "before and follow=true do not go together; a followed list is the newest page");
        return (new Query(repo, branch, state, limit, before, follow), null);
    }

    public static string Cursor(BuildSummary build) => $"{build.Created.UtcTicks.ToString(CultureInfo.InvariantCulture)}_{build.Id}";

    /// <summary>
    /// Reads, per repository, its builds from the newest down until it has a page of matching ones older than the
    /// cursor (at most the 500 a repository lists); the pages of all repositories are merged.
    /// </summary>
    public static async Task<Page> PageAsync(IGrainFactory grains, Query query)
    {
        var repositories = query.Repository.Length != 0 ? [query.Repository] : await grains.GetGrain<IRepositoryIndexGrain>("default").Names();
        var builds = new List<BuildSummary>();
        foreach (var name in repositories)
        {
            var taken = 0;
            foreach (var id in await grains.GetGrain<IRepositoryGrain>(name).Builds(Listed))
            {
                if (taken == query.Limit) break;
                if (await grains.GetGrain<IBuildGrain>(id).Get() is not { } build) continue;
                if (query.Before is { } before && Compare(build.Created, build.Id, before.Created, before.Id) >= 0) continue;
                if ((query.Branch.Length != 0 && build.Branch != query.Branch) || (query.State.Length != 0 && build.State != query.State)) continue;
                builds.Add(BuildsJson.Summary(build));
                taken++;
            }
        }
        builds.Sort((a, b) => Compare(b.Created, b.Id, a.Created, a.Id));
        if (builds.Count > query.Limit) builds.RemoveRange(query.Limit, builds.Count - query.Limit);
        return new Page(builds, builds.Count == query.Limit ? Cursor(builds[^1]) : null);
    }

    private static int Compare(DateTimeOffset aCreated, string aId, DateTimeOffset bCreated, string bId)
    {
        var byTime = aCreated.UtcTicks.CompareTo(bCreated.UtcTicks);
        return byTime != 0 ? byTime : string.CompareOrdinal(aId, bId);
    }
}
