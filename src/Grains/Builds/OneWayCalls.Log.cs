using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>Log lines, each with its event id.</summary>
internal static partial class OneWayCalls
{
    [LoggerMessage(EventId = 2613, Level = LogLevel.Debug, Message = "builds: a one-way call failed; the build's check repeats it")]
    private static partial void LogOneWayCallFailed(ILogger logger, Exception? exception);
}
