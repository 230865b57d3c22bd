using Microsoft.Extensions.Logging;

namespace Platform.Agent.Handlers;

/// <summary>Log lines, each with its event id.</summary>
public sealed partial class HandlerDispatcher
{
    [LoggerMessage(EventId = 505, Level = LogLevel.Error, Message = "agent: Error invoking script '{Script}': exit status {ExitCode}")]
    private static partial void LogScriptFailed(ILogger logger, string script, int? exitCode);

    [LoggerMessage(EventId = 506, Level = LogLevel.Error, Message = "agent: a handler observer failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 507, Level = LogLevel.Error, Message = "agent: handling the results of a '{Event}' event failed")]
    private static partial void LogResultsFailed(ILogger logger, Exception? exception, string @event);
}
