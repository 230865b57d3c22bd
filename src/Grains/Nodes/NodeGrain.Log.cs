using Microsoft.Extensions.Logging;

namespace Platform.Grains.Nodes;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class NodeGrain
{
    [LoggerMessage(EventId = 2306, Level = LogLevel.Information, Message = "node {Name} failed: {Reason}")]
    private static partial void LogNodeFailed(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 2307, Level = LogLevel.Warning, Message = "node {Name}: {Count} check(s) registered through the API now have the id of a check of its agent's configuration and were dropped")]
    private static partial void LogRegisteredCheckShadowed(ILogger logger, string name, int count);

    [LoggerMessage(EventId = 2308, Level = LogLevel.Debug, Message = "node {Name}: registered checks not sent to its agent now ({Reason}); it gets them after its next welcome")]
    private static partial void LogChecksNotPushed(ILogger logger, string name, string reason);
}
