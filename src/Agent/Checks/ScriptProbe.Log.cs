using Microsoft.Extensions.Logging;

namespace Platform.Agent.Checks;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class ScriptProbe
{
    [LoggerMessage(EventId = 546, Level = LogLevel.Warning, Message = "Check {CheckId} failed to start {Command}: {Error}")]
    private static partial void LogStartFailed(ILogger logger, string checkId, string command, string error);

    [LoggerMessage(EventId = 547, Level = LogLevel.Warning, Message = "Check {CheckId} timed out after {Timeout}")]
    private static partial void LogTimedOut(ILogger logger, string checkId, TimeSpan timeout);

    [LoggerMessage(EventId = 548, Level = LogLevel.Warning, Message = "Check {CheckId} could not kill its process {Pid} after the timeout")]
    private static partial void LogKillFailed(ILogger logger, Exception? exception, string checkId, int pid);
}
