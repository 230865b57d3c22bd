namespace Platform.Runtime.Storage;

/// <summary>
/// Grain journals held in process memory, with the same fencing and sequence rules as the durable providers.
/// For tests and throwaway single-process runs: nothing survives the process.
/// </summary>
public sealed class MemoryGrainJournal : IGrainJournal
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StreamState> _streams = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<JournalOpenResult> OpenAsync(string stream, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateStream(stream);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_streams.TryGetValue(stream, out var state))
            {
                state = new StreamState();
                _streams.Add(stream, state);
            }

            state.Head = state.Head with { Epoch = state.Head.Epoch + 1 };

            // Copies: the caller owns what it gets, as it would from a database.
            var records = state.Records.ConvertAll(r => r with { Data = (byte[])r.Data.Clone() });
            return Task.FromResult(GrainJournalChecks.Opened(stream, state.Head, (byte[]?)state.Snapshot?.Clone(), records));
        }
    }

    /// <inheritdoc />
    public Task AppendAsync(string stream, long epoch, long firstSeq, IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateAppend(stream, firstSeq, records);
        cancellationToken.ThrowIfCancellationRequested();

        // Copy so the caller may reuse its buffers once the append returns.
        var copies = new JournalRecord[records.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = new JournalRecord(firstSeq + i, records[i].ToArray());
        }

        lock (_gate)
        {
            var state = _streams.GetValueOrDefault(stream);
            if (state is null || !state.Head.AcceptsAppend(epoch, firstSeq))
            {
                return Task.FromException(GrainJournalChecks.AppendRefused(stream, epoch, firstSeq, state?.Head));
            }

            state.Records.AddRange(copies);
            state.Head = state.Head with { LastSeq = firstSeq + copies.Length - 1 };
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task SaveSnapshotAsync(string stream, long epoch, long seq, ReadOnlyMemory<byte> snapshot, CancellationToken cancellationToken = default)
    {
        GrainJournalChecks.ValidateSnapshot(stream, seq);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = snapshot.ToArray();
        lock (_gate)
        {
            var state = _streams.GetValueOrDefault(stream);
            if (state is null || !state.Head.AcceptsSnapshot(epoch, seq))
            {
                return Task.FromException(GrainJournalChecks.SnapshotRefused(stream, epoch, seq, state?.Head));
            }

            if (seq > state.Head.SnapshotSeq)
            {
                state.Snapshot = copy;
                state.Head = state.Head with { SnapshotSeq = seq };
                state.Records.RemoveAll(r => r.Seq <= seq);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class StreamState
    {
        public JournalHead Head { get; set; }

        public byte[]? Snapshot { get; set; }

        public List<JournalRecord> Records { get; } = [];
    }
}
