using Microsoft.Extensions.Logging;

namespace Platform.Grains.Builds;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class BuildQueueGrain
{
    [LoggerMessage(EventId = 2610, Level = LogLevel.Warning, Message = "build queue: build {Build} did not confirm job {Job}; retrying at the next check")]
    private static partial void LogJobNotConfirmed(ILogger logger, Exception? exception, string build, string job);

    [LoggerMessage(EventId = 2611, Level = LogLevel.Debug, Message = "build queue: checking job {Job} failed")]
    private static partial void LogJobCheckFailed(ILogger logger, Exception? exception, string job);

    [LoggerMessage(EventId = 2612, Level = LogLevel.Debug, Message = "build queue: a message to an agent hub failed")]
    private static partial void LogHubMessageFailed(ILogger logger, Exception? exception);
}
