using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>The build's log lines, each with its event id.</summary>
internal sealed partial class BuildGrain
{
    [LoggerMessage(EventId = 2600, Level = LogLevel.Information, Message = "build {Build} of {Branch} at {Commit} created ({Trigger})")]
    private static partial void LogCreated(ILogger logger, string build, string branch, string? commit, string trigger);

    [LoggerMessage(EventId = 2601, Level = LogLevel.Information, Message = "build {Build}: branch {Branch} is at commit {Commit}")]
    private static partial void LogBranchAt(ILogger logger, string build, string branch, string? commit);

    [LoggerMessage(EventId = 2602, Level = LogLevel.Information, Message = "build {Build} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string build, string? error);

    [LoggerMessage(EventId = 2603, Level = LogLevel.Information, Message = "build {Build} cancelled")]
    private static partial void LogCancelled(ILogger logger, string build);

    [LoggerMessage(EventId = 2604, Level = LogLevel.Information, Message = "build {Build} skipped: superseded by {Newer}")]
    private static partial void LogSuperseded(ILogger logger, string build, string newer);

    [LoggerMessage(EventId = 2605, Level = LogLevel.Information, Message = "build {Build}: job {Job} attempt {Attempt} lost: {Why}")]
    private static partial void LogJobLost(ILogger logger, string build, string job, int attempt, string why);

    [LoggerMessage(EventId = 2606, Level = LogLevel.Warning, Message = "build {Build}: job {Job} attempt {Attempt} {Why}")]
    private static partial void LogJobTimedOut(ILogger logger, string build, string job, int attempt, string why);

    [LoggerMessage(EventId = 2607, Level = LogLevel.Information, Message = "build {Build}: job {Job} ended {State}; retrying as attempt {Attempt}")]
    private static partial void LogJobRetried(ILogger logger, string build, string job, string state, int attempt);

    [LoggerMessage(EventId = 2608, Level = LogLevel.Information, Message = "build {Build} {State}")]
    private static partial void LogFinished(ILogger logger, string build, string state);

    [LoggerMessage(EventId = 2609, Level = LogLevel.Warning, Message = "build {Build}: the rule engine could not be told it {State} ({Error}); telling it again on the next check")]
    private static partial void LogRulesNotTold(ILogger logger, string build, string state, string error);

    [LoggerMessage(EventId = 2615, Level = LogLevel.Information, Message = "build {Build}: agent {Agent} reported job {Job} attempt {Attempt} started, which is no longer its to run; it is told to cancel it")]
    private static partial void LogStaleJobStarted(ILogger logger, string build, string job, int attempt, string agent);
}
