using System.Globalization;

namespace Platform.Runtime.Storage;

/// <summary>
/// Argument checks, fencing rules and error messages shared by every <see cref="IGrainJournal"/> provider, so all
/// of them refuse the same calls with the same words. Every message starts with <c>journal '&lt;stream&gt;':</c>.
/// </summary>
public static class GrainJournalChecks
{
    /// <summary>Largest record a provider accepts (16 MiB); the journal is for changes, not whole states.</summary>
    public const int MaxRecordBytes = 16 * 1024 * 1024;

    /// <summary>A stream is named by a non-empty string.</summary>
    public static void ValidateStream(string stream) => ArgumentException.ThrowIfNullOrEmpty(stream);

    /// <summary>Checks an append's arguments: a stream, at least one record of at most <see cref="MaxRecordBytes"/>, firstSeq ≥ 1.</summary>
    public static void ValidateAppend(string stream, long firstSeq, IReadOnlyList<ReadOnlyMemory<byte>> records)
    {
        ValidateStream(stream);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            throw new ArgumentException($"journal '{stream}': an append needs at least one record; the list is empty.", nameof(records));
        }

        if (firstSeq < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(firstSeq), firstSeq, $"journal '{stream}': records are numbered from 1; firstSeq is {firstSeq}.");
        }

        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Length > MaxRecordBytes)
            {
                throw new ArgumentException(
                    $"journal '{stream}': record {firstSeq + i} is {records[i].Length} bytes; a record may hold at most {MaxRecordBytes} bytes (16 MiB).",
                    nameof(records));
            }
        }
    }

    /// <summary>Checks a snapshot's arguments: a stream and seq ≥ 1.</summary>
    public static void ValidateSnapshot(string stream, long seq)
    {
        ValidateStream(stream);
        if (seq < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(seq), seq, $"journal '{stream}': a snapshot covers records 1..seq, so seq must be at least 1; it is {seq}.");
        }
    }

    /// <summary>The error for an append a newer writer fenced out or whose first sequence number does not follow the last record.</summary>
    public static InconsistentStateException AppendRefused(string stream, long epoch, long firstSeq, JournalHead? head) =>
        AppendRefused(stream, epoch, firstSeq, Describe(head));

    /// <summary>The error for a refused append when the stream's head could not be read to say why.</summary>
    public static InconsistentStateException AppendRefused(string stream, long epoch, long firstSeq, string reason) =>
        new($"journal '{stream}': append at {firstSeq} by epoch {epoch} refused: {reason}");

    /// <summary>The error for a snapshot a newer writer fenced out or that lies beyond the last record.</summary>
    public static InconsistentStateException SnapshotRefused(string stream, long epoch, long seq, JournalHead? head) =>
        new($"journal '{stream}': snapshot at {seq} by epoch {epoch} refused: {Describe(head)}");

    /// <summary>
    /// Builds what <see cref="IGrainJournal.OpenAsync"/> returns from what a provider read, after checking that the
    /// records are exactly the ones after the snapshot up to the head's last record.
    /// </summary>
    public static JournalOpenResult Opened(string stream, JournalHead head, byte[]? snapshot, IReadOnlyList<JournalRecord> records)
    {
        for (var i = 0; i < records.Count; i++)
        {
            var expected = head.SnapshotSeq + 1 + i;
            if (records[i].Seq != expected)
            {
                throw Damaged(stream, $"expected record {expected} (snapshot at {head.SnapshotSeq}, last record {head.LastSeq}), found {records[i].Seq}");
            }
        }

        if (head.SnapshotSeq + records.Count != head.LastSeq)
        {
            throw Damaged(stream, $"the last record is {head.LastSeq} but the records after the snapshot at {head.SnapshotSeq} end at {head.SnapshotSeq + records.Count}");
        }

        return new JournalOpenResult(head.Epoch, head.SnapshotSeq, snapshot, records);
    }

    private static InvalidOperationException Damaged(string stream, string detail) =>
        new($"journal '{stream}' is damaged: {detail}.");

    private static string Describe(JournalHead? head) => head is { } current
        ? string.Create(CultureInfo.InvariantCulture, $"current epoch {current.Epoch}, last record {current.LastSeq}")
        : "the stream was never opened";
}
