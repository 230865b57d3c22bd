using System.Text.Json;

namespace Platform.Silo.Endpoints.Feeds;

/// <summary>
/// A <c>?follow=true</c> answer: NDJSON, the current state as the first line, then a line per change as the feed hands
/// it over; a reader too slow to keep up gets the current state again in place of the changes it lost.
/// </summary>
internal static class FeedStream
{
    private static readonly byte[] s_newline = "\n"u8.ToArray();

    public static async Task Write<TWant>(HttpContext context, Func<CancellationToken, Task<FeedFollower<TWant>>> open, Func<Task<byte[]>> current, Func<object, byte[]> line)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        try
        {
            // Opened before the current state is read, so no change falls between the two.
            using var follower = await open(aborted);
            response.ContentType = "application/x-ndjson";
            await response.StartAsync(aborted);
            await WriteLine(response, await current(), aborted);
            await response.Body.FlushAsync(aborted);
            while (await follower.Changes.WaitToReadAsync(aborted))
            {
                if (follower.TakeDropped() > 0)
                {
                    while (follower.Changes.TryRead(out _))
                    {
                    }
                    await WriteLine(response, await current(), aborted);
                }
                while (follower.Changes.TryRead(out var change)) await WriteLine(response, line(change), aborted);
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
    }

    /// <summary><c>{"type":TYPE,NAME:VALUE}</c>.</summary>
    public static byte[] Line<T>(string type, string name, T value, JsonSerializerOptions? options = null)
        => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["type"] = type, [name] = value }, options ?? JsonSerializerOptions.Web);

    private static async Task WriteLine(HttpResponse response, byte[] line, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(line, cancellationToken);
        await response.Body.WriteAsync(s_newline, cancellationToken);
    }
}
