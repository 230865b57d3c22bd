using System.Text.Json;
using Platform.Grains.Builds;
using Platform.Runtime;
using Platform.Silo.Endpoints.Feeds;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// <c>?follow=true</c> on <c>/v1/builds</c>, <c>/v1/builds/{id}</c> and <c>/v1/queue</c>: NDJSON, the current state as
/// the first line, then a line per change as the grains push it (<see cref="BuildsFeed"/>); a reader too slow to keep
/// up gets the current state again in place of the changes it lost.
/// </summary>
internal static class BuildsFollowEndpoints
{
    /// <summary>The list, with the cursor of the page after it (null when it was not full), then a line per build of the filtered repository and branch whose summary changed (whatever its state, so a reader drops those that leave a state filter).</summary>
    public static Task List(HttpContext context, IGrainFactory grains, BuildsFeed feed, BuildsList.Query query)
        => Stream(context, feed, new BuildFollow(query.Repository, query.Branch, null, false),
            async () => ListLine(await BuildsList.PageAsync(grains, query)),
            change => Line("build", "build", BuildsJson.Summary((BuildState)change)));

    /// <summary>The build, then the build again after each change of it or its jobs.</summary>
    public static Task Build(HttpContext context, IGrainFactory grains, BuildsFeed feed, string id)
        => Stream(context, feed, new BuildFollow(null, null, id, false),
            async () => Line("build", "build", await grains.GetGrain<IBuildGrain>(id).Get()),
            change => Line("build", "build", (BuildState)change));

    /// <summary>The queue, then the queue again after each change.</summary>
    public static Task Queue(HttpContext context, IGrainFactory grains, BuildsFeed feed)
        => Stream(context, feed, new BuildFollow(null, null, null, true),
            async () => Line("queue", "queue", await grains.GetGrain<IBuildQueueGrain>("default").View()),
            change => Line("queue", "queue", (QueueView)change));

    private static Task Stream(HttpContext context, BuildsFeed feed, BuildFollow follow, Func<Task<byte[]>> current, Func<object, byte[]> line)
        => FeedStream.Write(context, ct => feed.OpenAsync(follow, ct), current, line);

    private static byte[] ListLine(BuildsList.Page page)
        => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["type"] = "list", ["builds"] = page.Builds, ["nextBefore"] = page.NextBefore }, JsonSerializerOptions.Web);

    private static byte[] Line<T>(string type, string name, T value) => FeedStream.Line(type, name, value);
}
