using Microsoft.Extensions.Logging;

namespace Platform.Grains.Rules;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class RuleEngineGrain
{
    [LoggerMessage(EventId = 2400, Level = LogLevel.Warning, Message = "rules: {Rule} action {Index} ({Type}) failed")]
    private static partial void LogActionFailed(ILogger logger, Exception? exception, string rule, int index, string type);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning, Message = "rules: {Rule} for {Occurrence} failed: {Error}")]
    private static partial void LogRunFailed(ILogger logger, string rule, string occurrence, string error);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Information, Message = "rules: the keyspace and fleet are reachable again after {Failures} failed renewals")]
    private static partial void LogFeedsReachable(ILogger logger, int failures);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Warning, Message = "rules: renewing the engine's feeds failed ({Error}, {Failures} in a row); retrying")]
    private static partial void LogFeedsRenewFailed(ILogger logger, string error, int failures);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Warning, Message = "rules: key changes after index {After} are no longer in the keyspace's history (it is at {Index}); rules did not see them")]
    private static partial void LogKeyChangesLost(ILogger logger, ulong after, ulong index);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Warning, Message = "rules: user events after Lamport time {After} up to {LTime} are no longer kept by the fleet; rules did not see them")]
    private static partial void LogUserEventsLost(ILogger logger, ulong after, ulong lTime);

    [LoggerMessage(EventId = 2406, Level = LogLevel.Information, Message = "rules: finishing {Count} recorded rule runs")]
    private static partial void LogFinishingRuns(ILogger logger, int count);

    [LoggerMessage(EventId = 2407, Level = LogLevel.Warning, Message = "rules: saving the feed cursors at deactivation failed; the next activation reads a few changes again (recorded ones are not run twice)")]
    private static partial void LogCursorsNotSaved(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2408, Level = LogLevel.Warning, Message = "rules: {Rule} ({Name}) {Error}")]
    private static partial void LogRuleError(ILogger logger, string rule, string name, string error);
}
