namespace Platform.Runtime.Storage;

/// <summary>
/// What <see cref="IGrainJournal.OpenAsync"/> returns: the writer's fencing epoch, the latest snapshot (if any) and
/// every record after it, in sequence order.
/// </summary>
/// <param name="Epoch">The epoch this writer must pass to every later call; opening again fences it out.</param>
/// <param name="SnapshotSeq">The sequence number the snapshot covers (0 when there is no snapshot).</param>
/// <param name="Snapshot">The snapshot's bytes; null when none was saved.</param>
/// <param name="Records">The records after <paramref name="SnapshotSeq"/>, contiguous and ascending.</param>
public sealed record JournalOpenResult(long Epoch, long SnapshotSeq, byte[]? Snapshot, IReadOnlyList<JournalRecord> Records)
{
    /// <summary>The sequence number of the last record (or of the snapshot when there are none).</summary>
    public long LastSeq => Records.Count == 0 ? SnapshotSeq : Records[^1].Seq;
}

/// <summary>One journal record: its sequence number and bytes.</summary>
public readonly record struct JournalRecord(long Seq, byte[] Data);

/// <summary>
/// A durable, append-only log per stream (one stream per grain) with snapshots, for grains whose every change must
/// be durable without rewriting the whole state: each change is a record, and the state is the latest snapshot
/// plus the records after it.
/// </summary>
/// <remarks>
/// One writer at a time per stream, enforced by fencing: <see cref="OpenAsync"/> gives the caller a new epoch, and
/// any append or snapshot that carries an older epoch fails with <see cref="InconsistentStateException"/>, so an
/// activation that was replaced (for example during a view change) can never write after its successor read.
/// Records are numbered 1, 2, 3, ... with no gaps: an append must start at the last sequence number + 1.
/// A call that returned is durable (the durable providers group-commit across streams).
/// </remarks>
public interface IGrainJournal
{
    /// <summary>Opens <paramref name="stream"/> for writing: fences every earlier writer and reads its state.</summary>
    Task<JournalOpenResult> OpenAsync(string stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="records"/> as sequence numbers <paramref name="firstSeq"/>, <paramref name="firstSeq"/>+1, ...
    /// all or nothing. Throws <see cref="InconsistentStateException"/> when <paramref name="epoch"/> is not the
    /// stream's current epoch or <paramref name="firstSeq"/> is not the last sequence number + 1. The caller must
    /// not change the buffers until the task completes.
    /// </summary>
    Task AppendAsync(string stream, long epoch, long firstSeq, IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves <paramref name="snapshot"/> as the state after record <paramref name="seq"/> and drops the records up to
    /// it. Throws <see cref="InconsistentStateException"/> when <paramref name="epoch"/> is stale or
    /// <paramref name="seq"/> is beyond the last record; a snapshot older than the saved one is ignored.
    /// </summary>
    Task SaveSnapshotAsync(string stream, long epoch, long seq, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken = default);
}
