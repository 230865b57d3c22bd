using Microsoft.Extensions.Logging;

namespace Platform.Agent.Configuration;

/// <summary>Log lines, each with its event id.</summary>
public static partial class ConfigFile
{
    [LoggerMessage(EventId = 504, Level = LogLevel.Debug, Message = "config file '{Source}': key '{Key}' has no meaning for a Platform agent; ignored")]
    private static partial void LogIgnoredKey(ILogger logger, string source, string key);
}
