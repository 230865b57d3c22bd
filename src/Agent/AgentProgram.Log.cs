using Microsoft.Extensions.Logging;

namespace Platform.Agent;

/// <summary>Log lines, each with its event id.</summary>
public static partial class AgentProgram
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "agent: caught {Signal}, {Action}")]
    private static partial void LogSignal(ILogger logger, System.Runtime.InteropServices.PosixSignal signal, string action);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "agent: caught SIGHUP, reloading configuration")]
    private static partial void LogReloading(ILogger logger);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "agent: failed to reload the configuration, keeping the running one: {Error}")]
    private static partial void LogReloadRefused(ILogger logger, string error);

    [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "agent: applying the reloaded configuration failed")]
    private static partial void LogReloadFailed(ILogger logger, Exception? exception);
}
