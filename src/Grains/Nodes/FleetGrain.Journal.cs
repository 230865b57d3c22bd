using Microsoft.Extensions.Logging;
using Platform.Runtime.Storage;

namespace Platform.Grains.Nodes;

/// <summary>The fleet's journal: one record per change, appended one batch at a time, with a snapshot every SnapshotEvery records.</summary>
internal sealed partial class FleetGrain
{
    private const string Stream = "fleet/default";
    private readonly Queue<Batch> _waiting = new();
    private Batch? _tail;
    private Batch? _inflight;
    private Task? _flushing;
    private Task? _snapshotting;
    private long _epoch;
    private long _lastSeq;
    private long _snapshotSeq;
    private Exception? _broken;

    private async Task OpenJournalAsync(CancellationToken cancellationToken)
    {
        var opened = await journal.OpenAsync(Stream, cancellationToken);
        if (opened.Snapshot is { } snapshot) _log.Load(FleetSnapshot.Decode(snapshot));
        foreach (var record in opened.Records)
        {
            try
            {
                _log.Apply(FleetRecord.Decode(record.Data));
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"journal '{Stream}' record {record.Seq}: {e.Message}", e);
            }
        }
        _publishedSeq = _log.LastSeq;
        _epoch = opened.Epoch;
        _lastSeq = opened.LastSeq;
        _snapshotSeq = opened.SnapshotSeq;
        LogActivated(logger, _log.Members.Count, _log.UserLTime, _epoch, opened.Records.Count);
    }

    private async Task CloseJournalAsync()
    {
        while (_flushing is { } flushing) await flushing;
        if (_snapshotting is { } snapshotting) await snapshotting;
        if (_broken is null && _lastSeq > _snapshotSeq) await SaveSnapshotAsync();
    }

    private Task Enqueue(byte[] record, FleetEvent? published)
    {
        if (_broken is { } broken) return Task.FromException(new InvalidOperationException($"the fleet is recovering from a failed journal append: {broken.Message}", broken));
        if (_tail is not { } batch)
        {
            batch = new Batch(_lastSeq + 1);
            _waiting.Enqueue(batch);
            _tail = batch;
        }
        _lastSeq++;
        batch.Records.Add(record);
        if (published is not null) batch.Events.Add(published);
        _flushing ??= FlushAsync();
        return batch.Done.Task;
    }

    private async Task FlushAsync()
    {
        await Task.Yield();
        try
        {
            while (_waiting.TryDequeue(out var batch))
            {
                if (batch == _tail) _tail = null;
                _inflight = batch;
                try
                {
                    await journal.AppendAsync(Stream, _epoch, batch.FirstSeq, batch.Records);
                }
                catch (Exception e)
                {
                    // Memory is ahead of the journal: nothing more is answered from it; the next call rebuilds it.
                    _broken = e;
                    LogJournalAppendFailed(logger, e, batch.FirstSeq);
                    batch.Done.TrySetException(e);
                    while (_waiting.TryDequeue(out var waiting)) waiting.Done.TrySetException(e);
                    _tail = null;
                    _inflight = null;
                    DeactivateOnIdle();
                    return;
                }
                _inflight = null;
                if (batch.Events.Count != 0) Publish(batch.Events);
                batch.Done.TrySetResult();
                if (_lastSeq - _snapshotSeq >= _options.SnapshotEvery && _snapshotting is null) _snapshotting = SnapshotInBackground();
            }
        }
        finally
        {
            _flushing = null;
        }
    }

    private async Task SnapshotInBackground()
    {
        try
        {
            await SaveSnapshotAsync();
        }
        catch (Exception e)
        {
            LogSnapshotFailed(logger, e);
        }
        finally
        {
            _snapshotting = null;
        }
    }

    private async Task SaveSnapshotAsync()
    {
        var seq = _lastSeq;
        var bytes = _log.Save().Encode();
        if ((_tail ?? _inflight)?.Done.Task is { } pending) await pending;
        await journal.SaveSnapshotAsync(Stream, _epoch, seq, bytes);
        if (seq > _snapshotSeq) _snapshotSeq = seq;
    }

    private sealed class Batch(long firstSeq)
    {
        public long FirstSeq { get; } = firstSeq;

        public List<ReadOnlyMemory<byte>> Records { get; } = [];

        public List<FleetEvent> Events { get; } = [];

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
