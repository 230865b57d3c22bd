namespace Platform.Runtime.Storage;

/// <summary>
/// Base of the <see cref="IGrainJournal"/> providers: checks every call's arguments the same way (see
/// <see cref="GrainJournalChecks"/>) before the provider does its part, so no provider can accept what another refuses.
/// </summary>
public abstract class GrainJournalProvider : IGrainJournal
{
    /// <inheritdoc />
    public Task<JournalOpenResult> OpenAsync(string stream, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateStream(stream);
        return OpenCheckedAsync(stream, cancellationToken);
    }

    /// <inheritdoc />
    public Task AppendAsync(string stream, long epoch, long firstSeq, IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateAppend(stream, firstSeq, records);
        return AppendCheckedAsync(new JournalAppend(stream, epoch, firstSeq, records), cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveSnapshotAsync(string stream, long epoch, long seq, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateSnapshot(stream, seq);
        return SaveSnapshotCheckedAsync(new JournalSnapshot(stream, epoch, seq, snapshot), cancellationToken);
    }

    /// <summary><see cref="OpenAsync"/> with a valid stream name.</summary>
    protected abstract Task<JournalOpenResult> OpenCheckedAsync(string stream, CancellationToken cancellationToken);

    /// <summary><see cref="AppendAsync"/> with valid arguments: at least one record, none too large, firstSeq ≥ 1.</summary>
    protected abstract Task AppendCheckedAsync(JournalAppend append, CancellationToken cancellationToken);

    /// <summary><see cref="SaveSnapshotAsync"/> with valid arguments: seq ≥ 1.</summary>
    protected abstract Task SaveSnapshotCheckedAsync(JournalSnapshot snapshot, CancellationToken cancellationToken);
}
