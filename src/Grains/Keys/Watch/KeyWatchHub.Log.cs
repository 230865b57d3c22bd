using Microsoft.Extensions.Logging;

namespace Platform.Grains.Keys;

/// <summary>Log lines, each with its event id.</summary>
public sealed partial class KeyWatchHub
{
    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "watch hub: catching up with the keyspace failed; retrying at the next renewal")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Information, Message = "watch hub: keyspace reachable again after {Failures} failed renewals")]
    private static partial void LogKeyspaceReachable(ILogger logger, int failures);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Warning, Message = "watch hub: keyspace not reachable ({Error}, {Failures} renewals in a row); retrying")]
    private static partial void LogKeyspaceUnreachable(ILogger logger, string error, int failures);

    [LoggerMessage(EventId = 2207, Level = LogLevel.Warning, Message = "watch hub: events after {After} are no longer in the keyspace history (now at {Index}); open watches are closed so their clients watch again")]
    private static partial void LogHistoryLost(ILogger logger, ulong after, ulong index);

    [LoggerMessage(EventId = 2208, Level = LogLevel.Error, Message = "watch hub: a watch's completion handler failed")]
    private static partial void LogCompletionFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2209, Level = LogLevel.Warning, Message = "watch hub: write {Index} not seen within {Wait} (hub at {LastIndex}); the reply goes out without it")]
    private static partial void LogWriteNotSeen(ILogger logger, ulong index, TimeSpan wait, ulong lastIndex);

    [LoggerMessage(EventId = 2210, Level = LogLevel.Warning, Message = "keys: {Op} {Key} was refused unapplied {Times} times: {Cause}")]
    private static partial void LogNotApplied(ILogger logger, KeyOp op, string key, int times, string? cause);
}
