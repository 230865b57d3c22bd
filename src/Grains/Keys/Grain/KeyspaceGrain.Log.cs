using Microsoft.Extensions.Logging;

namespace Platform.Grains.Keys;

/// <summary>Log lines, each with its event id.</summary>
internal sealed partial class KeyspaceGrain
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "keyspace {Stream} activated at index {Index} (epoch {Epoch}, {Records} records replayed after snapshot {SnapshotSeq})")]
    private static partial void LogActivated(ILogger logger, string stream, ulong index, long epoch, int records, long snapshotSeq);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "keyspace {Stream}: journal append at {Seq} failed for want of storage; the activation is dropped and rebuilt from the journal once storage answers")]
    private static partial void LogAppendFailedForStorage(ILogger logger, string stream, long seq);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "keyspace {Stream}: journal append at {Seq} failed; the activation is dropped and rebuilt from the journal")]
    private static partial void LogAppendFailed(ILogger logger, Exception? exception, string stream, long seq);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "keyspace {Stream}: snapshot failed; the journal keeps every record until the next one succeeds")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception? exception, string stream);
}
