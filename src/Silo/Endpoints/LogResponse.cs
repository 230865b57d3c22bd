using System.Globalization;
using Platform.Grains.Builds;

namespace Platform.Silo.Endpoints;

/// <summary>
/// Serves a log kept in a job log grain (a build job attempt's, a deploy node's): whole, as one byte range
/// (<c>Range: bytes=a-b</c>, answered 206), only its last bytes (<c>?tail=N</c>, from the first line start within them;
/// <c>X-Platform-Log-Offset</c> says where), from a byte on (<c>?from=N</c>), or followed (<c>?follow=true</c>, also with
/// a tail or a from) as it grows until it ends.
/// </summary>
internal static class LogResponse
{
    private const int ReadSize = 256 * 1024;

    /// <summary>
    /// Writes <paramref name="log"/> to the response. <paramref name="over"/> tells a follower that what writes the log is
    /// done though its end mark was not stored; <paramref name="error"/> makes the error answer of the API serving it.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, IJobLogGrain log, Func<Task<bool>> over, Func<int, string, IResult> error)
    {
        var response = context.Response;
        var followText = context.Request.Query["follow"].ToString();
        var follow = false;
        if (followText.Length != 0 && !bool.TryParse(followText, out follow))
        {
            await error(400, $"follow '{followText}' is not true or false").ExecuteAsync(context);
            return;
        }
        var tailText = context.Request.Query["tail"].ToString();
        long tail = 0;
        if (tailText.Length != 0 && (!long.TryParse(tailText, NumberStyles.None, CultureInfo.InvariantCulture, out tail) || tail < 1))
        {
            await error(400, $"tail '{tailText}' is not a number of bytes; expected a whole number from 1").ExecuteAsync(context);
            return;
        }
        // ?from=N: the log from byte N on, what a follower whose stream broke asks for to go on where it was.
        var fromText = context.Request.Query["from"].ToString();
        long from = 0;
        if (fromText.Length != 0 && !long.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            await error(400, $"from '{fromText}' is not a byte offset; expected a whole number from 0").ExecuteAsync(context);
            return;
        }
        long? to = null;
        var range = context.Request.Headers.Range.ToString();
        if (range.Length != 0 && tail != 0)
        {
            await error(400, $"tail '{tailText}' and Range '{range}' do not go together; expected one of them").ExecuteAsync(context);
            return;
        }
        if (fromText.Length != 0 && (tail != 0 || range.Length != 0))
        {
            await error(400, $"from '{fromText}' goes with neither tail nor Range; expected one of them").ExecuteAsync(context);
            return;
        }
        if (range.Length != 0 && !TryParseRange(range, out from, out to))
        {
            await error(416, $"Range '{range}' is not one byte range; expected bytes=FIRST-[LAST]").ExecuteAsync(context);
            return;
        }
        response.ContentType = "text/plain; charset=utf-8";
        if (tail != 0) from = await TailStart(log, tail);
        response.Headers["X-Platform-Log-Offset"] = from.ToString(CultureInfo.InvariantCulture);
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
                if (await over())
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

    /// <summary>
    /// Where the last <paramref name="tail"/> bytes start, moved on to the first line start within them so a reader
    /// never gets half a line (half a character or half a colour code); a tail of one long line starts inside it.
    /// </summary>
    private static async Task<long> TailStart(IJobLogGrain log, long tail)
    {
        var length = (await log.Read(0, 1, 0)).Length;
        if (length <= tail) return 0;
        var start = length - tail;
        // The byte before the start decides whether the start is already a line start.
        var head = await log.Read(start - 1, (int)Math.Min(tail + 1, ReadSize), 0);
        var newline = Array.IndexOf(head.Data, (byte)'\n');
        return newline < 0 || newline == head.Data.Length - 1 ? start : start - 1 + newline + 1;
    }

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
