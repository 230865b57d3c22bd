using Microsoft.Extensions.Logging;

namespace Platform.Grains.Access;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class AccessGrain
{
    [LoggerMessage(EventId = 2500, Level = LogLevel.Debug, Message = "access: telling a silo about a token change failed; it catches up at its next renewal")]
    private static partial void LogSiloNotTold(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2501, Level = LogLevel.Debug, Message = "access: telling a silo about a token change failed; it catches up at its next renewal")]
    private static partial void LogSiloNotToldThrew(ILogger logger, Exception? exception);
}
