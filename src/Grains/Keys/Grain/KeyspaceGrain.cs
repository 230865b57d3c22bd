using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;
using Platform.Runtime.Catalog;
using Platform.Runtime.Observers;
using Platform.Runtime.Storage;

namespace Platform.Grains.Keys;

/// <summary>
/// A keyspace as a grain: the <see cref="KeyStore"/> in memory, every write journaled (one record per write, in
/// index order) and answered only once the journal committed it, then published to the silos' watch hubs.
/// </summary>
/// <remarks>
/// <para>Reentrant: a write runs against the store at once (its turn orders it and gives it its index) and then
/// waits for the journal; writes that arrive meanwhile go into the next append, so the journal sees one append in
/// flight per keyspace, as large as the load makes it. Reads wait until everything they could see is durable, so
/// no reader ever sees a write that a crash could take back.</para>
/// <para>Activation reads the latest snapshot and replays the records after it with the clock pinned to each
/// record's time; TTLs that ran out while the keyspace was down expire at the first check, as <c>expire</c>
/// events. If an append fails, the in-memory store is ahead of the journal: the activation stops taking requests
/// and goes away, and the next call rebuilds it from the journal.</para>
/// </remarks>
[Reentrant]
[GrainType("keyspace")]
internal sealed partial class KeyspaceGrain(IGrainJournal journal, IOptions<KeyspaceOptions> options, ILogger<KeyspaceGrain> logger) : Grain, IKeyspaceGrain
{
    private readonly KeyspaceOptions _options = options.Value;
    private readonly PinnableClock _clock = new();
    private readonly ObserverManager<IKeyspaceObserver> _hubs = new(TimeSpan.FromSeconds(30));
    private KeyStore _store = null!;
    private string _stream = "";
    private long _epoch;
    private long _lastSeq;
    private long _snapshotSeq;
    private ulong _durableIndex;
    private readonly Queue<Batch> _waiting = new();
    private Batch? _tail;
    private Batch? _inflight;
    private Task? _flushing;
    private Task? _snapshotting;
    private Exception? _broken;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = "keyspace/" + GetPrimaryKeyString();
        var opened = await journal.OpenAsync(_stream, cancellationToken);
        _store = opened.Snapshot is null
            ? new KeyStore(_options.HistoryCapacity, _clock)
            : KeyStoreSnapshot.Load(opened.Snapshot, _options.HistoryCapacity, _clock);
        foreach (var record in opened.Records) Replay(record);
        _epoch = opened.Epoch;
        _lastSeq = opened.LastSeq;
        _snapshotSeq = opened.SnapshotSeq;
        _durableIndex = _store.CurrentIndex;
        LogActivated(logger, _stream, _store.CurrentIndex, _epoch, opened.Records.Count, opened.SnapshotSeq);
        RegisterGrainTimer(_ => ExpireDue(), TimeSpan.Zero, _options.ExpiryCheckInterval);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        while (_flushing is { } flushing) await flushing;
        if (_snapshotting is { } snapshotting) await snapshotting;
        if (_broken is null && _lastSeq > _snapshotSeq) await SaveSnapshotAsync();
    }

    public async Task<KeyResult> Execute(KeyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_broken is { } broken) return Unavailable(broken, notApplied: true);
        if (request.Op == KeyOp.Get)
        {
            KeyEvent read;
            try
            {
                read = request.ApplyTo(_store);
            }
            catch (KeyException error)
            {
                return KeyResult.From(error, _epoch);
            }
            // Everything the read could see must be durable before it is shown.
            if (_store.CurrentIndex > _durableIndex) await WhenDurable();
            return new KeyResult { Event = read, Term = _epoch };
        }
        if (request.Op == KeyOp.Expire) throw new ArgumentException("expiry is not a request: the keyspace runs it itself", nameof(request));
        if (TooLarge(request) is { } tooLarge) return tooLarge;

        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<KeyEvent> events;
        _clock.Pin(now);
        try
        {
            events = request.ApplyAllTo(_store);
        }
        catch (KeyException error)
        {
            return KeyResult.From(error, _epoch);
        }
        finally
        {
            _clock.Unpin();
        }
        if (events.Count == 0) return new KeyResult { ErrorIndex = _store.CurrentIndex, Term = _epoch };
        var batch = Append(KeyRecord.Write(request, now), events);
        try
        {
            await batch.Done.Task;
        }
        catch (Exception failure)
        {
            // A refused append stored none of its batch (the journal appends all or nothing), and a batch that never
            // reached the journal stored nothing either; any other failure may have stored it.
            return Unavailable(failure, notApplied: failure is InconsistentStateException or NotAppendedException);
        }
        return new KeyResult { Event = events[^1], Term = _epoch };
    }

    public Task<KeyResult> ScanHistory(string key, bool recursive, ulong sinceIndex, bool includeHidden)
    {
        if (_broken is { } broken) return Task.FromResult(Unavailable(broken, notApplied: true));
        KeyEvent? found;
        try
        {
            found = _store.ScanHistory(key, recursive, sinceIndex, includeHidden);
        }
        catch (KeyException e)
        {
            return Task.FromResult(KeyResult.From(e, _epoch));
        }
        // Events past the durable index are not shown yet: the watch goes on at the hub from there.
        return Task.FromResult(found is null || found.Index > _durableIndex
            ? new KeyResult { ErrorIndex = _durableIndex, Term = _epoch }
            : new KeyResult { Event = found, Term = _epoch });
    }

    public Task<KeyspaceCatchUp> Subscribe(IKeyspaceObserver observer, ulong afterIndex)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _hubs.Subscribe(observer);
        if (afterIndex >= _durableIndex) return Task.FromResult(new KeyspaceCatchUp(_durableIndex, [], cleared: false, _epoch));
        var history = _store.History;
        if (history.Count == 0 || history.StartIndex > afterIndex + 1)
            return Task.FromResult(new KeyspaceCatchUp(_durableIndex, [], cleared: true, _epoch));
        var missed = new List<KeyEvent>((int)(_durableIndex - afterIndex));
        for (var position = (int)(afterIndex + 1 - history.StartIndex); position < history.Count; position++)
        {
            var e = history[position];
            if (e.Index > _durableIndex) break;
            missed.Add(e);
        }
        return Task.FromResult(new KeyspaceCatchUp(_durableIndex, missed, cleared: false, _epoch));
    }

    /// <summary>Removes what expired; the expiry is journaled and published like any write.</summary>
    private Task ExpireDue()
    {
        if (_broken is not null || _store.NextExpiration is not { } next) return Task.CompletedTask;
        var now = DateTimeOffset.UtcNow;
        if (next > now) return Task.CompletedTask;
        var expired = _store.Expire(now);
        if (expired.Count != 0) Append(KeyRecord.WriteExpiry(now), expired);
        return Task.CompletedTask;
    }

    private void Replay(JournalRecord record)
    {
        (KeyRequest request, DateTimeOffset at) decoded;
        try
        {
            decoded = KeyRecord.Read(record.Data);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"journal '{_stream}' record {record.Seq}: {e.Message}", e);
        }
        _clock.Pin(decoded.at);
        try
        {
            if (decoded.request.Op == KeyOp.Expire) _store.Expire(decoded.at);
            else decoded.request.ApplyAllTo(_store);
        }
        catch (KeyException e)
        {
            throw new InvalidDataException($"journal '{_stream}' record {record.Seq} ({decoded.request}) does not replay: {e.Message}", e);
        }
        finally
        {
            _clock.Unpin();
        }
    }

    /// <summary>Queues a record (and the events it made) for the next journal append.</summary>
    private Batch Append(byte[] record, IReadOnlyList<KeyEvent> events)
    {
        if (_tail is not { } batch || batch.Records.Count >= _options.MaxBatch)
        {
            batch = new Batch(_lastSeq + 1);
            _waiting.Enqueue(batch);
            _tail = batch;
        }
        _lastSeq++;
        batch.Records.Add(record);
        batch.Events.AddRange(events);
        batch.LastIndex = events[^1].Index;
        _flushing ??= FlushAsync();
        return batch;
    }

    private Batch? TakeNext()
    {
        if (!_waiting.TryDequeue(out var next)) return null;
        if (next == _tail) _tail = null;
        return next;
    }

    /// <summary>Appends batches one at a time until none is waiting; runs inside the activation.</summary>
    private async Task FlushAsync()
    {
        await Task.Yield();
        try
        {
            while (TakeNext() is { } batch)
            {
                _inflight = batch;
                try
                {
                    await journal.AppendAsync(_stream, _epoch, batch.FirstSeq, batch.Records);
                }
                catch (Exception e)
                {
                    Break(e, batch);
                    return;
                }
                _inflight = null;
                _durableIndex = batch.LastIndex;
                if (batch.Events.Count != 0)
                {
                    var published = new KeyEventBatch(batch.Events);
                    _hubs.Notify(hub => hub.OnEvents(published));
                }
                batch.Done.TrySetResult();
                if (_lastSeq - _snapshotSeq >= _options.SnapshotEvery && _snapshotting is null) _snapshotting = SnapshotInBackground();
            }
        }
        finally
        {
            _flushing = null;
        }
    }

    /// <summary>An append failed: the store is ahead of the journal, so nothing more is answered from it.</summary>
    private void Break(Exception e, Batch failed)
    {
        _broken = e;
        failed.Done.TrySetException(e);
        while (TakeNext() is { } waiting) waiting.Done.TrySetException(new NotAppendedException(e));
        _inflight = null;
        if (e is StorageUnavailableException unavailable)
        {
            // The storage monitor logs the outage once, with its stack; the grain backs off before it is rebuilt.
            LogAppendFailedForStorage(logger, _stream, failed.FirstSeq);
            DeactivateOnIdle(unavailable);
            return;
        }
        LogAppendFailed(logger, e, _stream, failed.FirstSeq);
        DeactivateOnIdle();
    }

    /// <summary>Completes when every record queued so far is durable.</summary>
    private Task WhenDurable() => (_tail ?? _inflight)?.Done.Task ?? Task.CompletedTask;

    private async Task SnapshotInBackground()
    {
        try
        {
            await SaveSnapshotAsync();
        }
        catch (Exception e)
        {
            LogSnapshotFailed(logger, e, _stream);
        }
        finally
        {
            _snapshotting = null;
        }
    }

    /// <summary>Saves the store as it is after the last record, once that record is durable.</summary>
    private async Task SaveSnapshotAsync()
    {
        var seq = _lastSeq;
        var bytes = KeyStoreSnapshot.Save(_store);
        var durable = WhenDurable();
        await durable;
        await journal.SaveSnapshotAsync(_stream, _epoch, seq, bytes);
        if (seq > _snapshotSeq) _snapshotSeq = seq;
    }

    private KeyResult? TooLarge(KeyRequest request)
    {
        var limit = _options.MaxValueBytes;
        if (request.Value.Length <= limit / 3) return null;
        var bytes = System.Text.Encoding.UTF8.GetByteCount(request.Value);
        if (bytes <= limit) return null;
        return new KeyResult
        {
            ErrorCode = KeyErrorCode.InvalidField,
            ErrorCause = $"value of {KeyPath.Quote(request.Key)} is {bytes} bytes; the limit is {limit} bytes",
            ErrorIndex = _durableIndex,
            Term = _epoch,
        };
    }

    private KeyResult Unavailable(Exception cause, bool notApplied = false) =>
        new()
        {
            ErrorCode = KeyErrorCode.RaftInternal,
            ErrorCause = $"keyspace {GetPrimaryKeyString()} is recovering: {(cause is NotAppendedException ? cause.InnerException!.Message : cause.Message)}",
            ErrorIndex = _durableIndex,
            Term = _epoch,
            NotApplied = notApplied,
        };

    /// <summary>A batch queued behind one whose append failed: it was never sent to the journal.</summary>
    private sealed class NotAppendedException(Exception cause) : Exception(cause.Message, cause);

    private sealed class Batch(long firstSeq)
    {
        public long FirstSeq { get; } = firstSeq;

        public List<ReadOnlyMemory<byte>> Records { get; } = [];

        public List<KeyEvent> Events { get; } = [];

        public ulong LastIndex { get; set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
