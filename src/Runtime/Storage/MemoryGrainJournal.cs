namespace Platform.Runtime.Storage;

/// <summary>
/// Grain journals held in process memory, with the same fencing and sequence rules as the durable providers.
/// For tests and throwaway single-process runs: nothing survives the process.
/// </summary>
public sealed class MemoryGrainJournal : GrainJournalProvider
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StreamState> _streams = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override Task<JournalOpenResult> OpenCheckedAsync(string stream, CancellationToken cancellationToken)
    {
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
    protected override Task AppendCheckedAsync(JournalAppend append, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Copy so the caller may reuse its buffers once the append returns.
        var copies = new JournalRecord[append.Records.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = new JournalRecord(append.FirstSeq + i, append.Records[i].ToArray());
        }

        lock (_gate)
        {
            var state = _streams.GetValueOrDefault(append.Stream);
            if (!append.Fits(state?.Head))
            {
                return Task.FromException(append.Refused(state?.Head));
            }

            state!.Records.AddRange(copies);
            state.Head = state.Head with { LastSeq = append.LastSeq };
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    protected override Task SaveSnapshotCheckedAsync(JournalSnapshot snapshot, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var copy = snapshot.Data.ToArray();
        lock (_gate)
        {
            var state = _streams.GetValueOrDefault(snapshot.Stream);
            if (!snapshot.Fits(state?.Head))
            {
                return Task.FromException(snapshot.Refused(state?.Head));
            }

            if (snapshot.Seq > state!.Head.SnapshotSeq)
            {
                state.Snapshot = copy;
                state.Head = state.Head with { SnapshotSeq = snapshot.Seq };
                state.Records.RemoveAll(r => r.Seq <= snapshot.Seq);
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
