namespace Platform.Runtime.Storage;

/// <summary>
/// A stream's head as a provider stores it: the current writer's epoch, the last record's sequence number and the
/// sequence number the saved snapshot covers (0 when none). Holds the fencing rules every provider applies.
/// </summary>
public readonly record struct JournalHead(long Epoch, long LastSeq, long SnapshotSeq)
{
    /// <summary>An append by <paramref name="epoch"/> starting at <paramref name="firstSeq"/> is allowed: the epoch is current and no record is skipped or overwritten.</summary>
    public bool AcceptsAppend(long epoch, long firstSeq) => Epoch == epoch && LastSeq == firstSeq - 1;

    /// <summary>A snapshot by <paramref name="epoch"/> at <paramref name="seq"/> is allowed: the epoch is current and the records it covers exist.</summary>
    public bool AcceptsSnapshot(long epoch, long seq) => Epoch == epoch && seq <= LastSeq;
}
