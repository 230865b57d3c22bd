using Microsoft.Extensions.Logging;

namespace Platform.Agent.Checks;

/// <summary>Log lines, each with its event id.</summary>
public sealed partial class CheckSet
{
    [LoggerMessage(EventId = 540, Level = LogLevel.Warning, Message = "Check {CheckId} has interval {Interval}, below the minimum; it runs every {Minimum}")]
    private static partial void LogIntervalBelowMinimum(ILogger logger, string checkId, TimeSpan? interval, TimeSpan minimum);

    [LoggerMessage(EventId = 541, Level = LogLevel.Error, Message = "Check {CheckId} failed to run")]
    private static partial void LogCheckFailedToRun(ILogger logger, Exception? exception, string checkId);

    [LoggerMessage(EventId = 542, Level = LogLevel.Debug, Message = "Check {CheckId} is {Status} but has not reached its threshold")]
    private static partial void LogBelowThreshold(ILogger logger, string checkId, string status);

    [LoggerMessage(EventId = 543, Level = LogLevel.Information, Message = "Check {CheckId} is now {Status}")]
    private static partial void LogCheckChanged(ILogger logger, string checkId, string status);

    [LoggerMessage(EventId = 544, Level = LogLevel.Error, Message = "The listener of check changes failed on check {CheckId}")]
    private static partial void LogListenerFailed(ILogger logger, Exception? exception, string checkId);
}
