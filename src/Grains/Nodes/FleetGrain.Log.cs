using Microsoft.Extensions.Logging;

namespace Platform.Grains.Nodes;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class FleetGrain
{
    [LoggerMessage(EventId = 2303, Level = LogLevel.Debug, Message = "fleet: a hub notification failed")]
    private static partial void LogHubNotificationFailed(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2304, Level = LogLevel.Debug, Message = "fleet: a hub notification failed")]
    private static partial void LogHubNotificationThrew(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2305, Level = LogLevel.Warning, Message = "fleet: updating node {Name} failed; retrying at the next check")]
    private static partial void LogNodeUpdateFailed(ILogger logger, Exception? exception, string name);

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "fleet activated with {Members} members at user ltime {LTime} (epoch {Epoch}, {Records} records replayed)")]
    private static partial void LogActivated(ILogger logger, int members, ulong lTime, long epoch, int records);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Error, Message = "fleet: journal append at {Seq} failed; the activation is dropped and rebuilt from the journal")]
    private static partial void LogJournalAppendFailed(ILogger logger, Exception? exception, long seq);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "fleet: snapshot failed; the journal keeps every record until the next one succeeds")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception? exception);
}
