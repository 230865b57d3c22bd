using Microsoft.Extensions.Logging;

namespace Platform.Agent.Checks;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class HttpProbe
{
    [LoggerMessage(EventId = 545, Level = LogLevel.Warning, Message = "Check {CheckId} could not read the whole response body: {Error}")]
    private static partial void LogBodyUnread(ILogger logger, string checkId, string error);
}
