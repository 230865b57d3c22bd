using Microsoft.Extensions.Logging;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "agent: node '{Name}' starting (agent id {AgentId}, {Servers} server(s), last applied user event ltime {Applied})")]
    private static partial void LogStarting(ILogger logger, string name, string agentId, int servers, ulong applied);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "agent: leaving gracefully")]
    private static partial void LogLeaving(ILogger logger);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "agent: the silo asked this node to leave")]
    private static partial void LogSiloAskedLeave(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "agent: ignored a '{Frame}' frame, which silos do not send to agents")]
    private static partial void LogUnexpectedFrame(ILogger logger, string frame);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "agent: cannot write tags file '{Path}': {Error}")]
    private static partial void LogTagsFileFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "agent: adopted {Count} tag(s) from the silo")]
    private static partial void LogTagsAdopted(ILogger logger, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "agent: an observer of the agent's events failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception failure);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "agent: {Server} is not TLS: whoever can answer for it can run this node's handlers; use https with cert_file and key_file")]
    private static partial void LogPlainText(ILogger logger, Uri server);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "agent: user event '{Name}' at ltime {LTime} skipped: handled already (applied up to {Applied})")]
    private static partial void LogUserEventSkipped(ILogger logger, string name, ulong lTime, ulong applied);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "agent: user event '{Name}' at ltime {LTime} coalesced away by a later one")]
    private static partial void LogUserEventCoalesced(ILogger logger, string name, ulong lTime);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "agent: user event at ltime {LTime} handled but not recorded on disk (it will run again after a restart): {Error}")]
    private static partial void LogAppliedNotSaved(ILogger logger, ulong lTime, string error);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "agent: user event '{Name}' has a filter that cannot be used ({Filter}): {Error}; not handled here")]
    private static partial void LogBadFilter(ILogger logger, string name, string? filter, string error);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "agent: a TTL report for check '{CheckId}' from the silo was not applied: {Error}")]
    private static partial void LogCheckReportRefused(ILogger logger, string checkId, string error);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "agent: configuration reloaded: {Handlers} event handler(s)")]
    private static partial void LogReloaded(ILogger logger, int handlers);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "agent: the reloaded configuration has member handlers, but this agent started without any and asked the silo for no member events; they run after the agent is restarted")]
    private static partial void LogMemberHandlersNeedRestart(ILogger logger);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "agent: tags changed locally ({Count} tag(s)); sending them to the silo")]
    private static partial void LogTagsChangedLocally(ILogger logger, int count);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "agent: Failed to respond to query '{Name}' from '{Script}': {Reason}")]
    private static partial void LogQueryNotAnswered(ILogger logger, string name, string script, string reason);
}
