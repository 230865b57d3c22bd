using Microsoft.Extensions.Logging;

namespace Platform.Grains.Nodes;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class NodeGrain
{
    [LoggerMessage(EventId = 2306, Level = LogLevel.Information, Message = "node {Name} failed: {Reason}")]
    private static partial void LogNodeFailed(ILogger logger, string name, string reason);
}
