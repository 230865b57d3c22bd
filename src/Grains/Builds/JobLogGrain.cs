using System.Buffers.Binary;
using Platform.Runtime;
using Platform.Runtime.Storage;

namespace Platform.Grains.Builds;

/// <summary>
/// A job attempt's log as a grain journal stream: one record per chunk (its offset and bytes) and one at the end. The
/// offsets make resent chunks harmless: bytes already stored are skipped, a chunk past a gap is not stored (the agent
/// resends from its last acknowledgement). The log is held in memory while the grain is active. Build job attempts and
/// deploy nodes (<see cref="Deploys.DeployLogKeys"/>) keep their output here.
/// </summary>
/// <remarks>Reentrant, so that followers waiting in <see cref="Read"/> never hold up appends; appends take turns on a lock.</remarks>
[Reentrant]
[GrainType("joblog")]
internal sealed class JobLogGrain(IGrainJournal journal) : Grain, IJobLogGrain
{
    private const byte ChunkRecord = 0;
    private const byte EndRecord = 1;

    private readonly List<(long Offset, byte[] Data)> _chunks = [];
    private readonly SemaphoreSlim _writing = new(1, 1);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _epoch;
    private long _lastSeq;
    private long _length;
    private long _ackedSeq;
    private bool _ended;

    private string Stream => "joblog/" + GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var opened = await journal.OpenAsync(Stream, cancellationToken);
        _epoch = opened.Epoch;
        _lastSeq = opened.LastSeq;
        foreach (var record in opened.Records)
        {
            var data = record.Data;
            if (data.Length >= 1 && data[0] == EndRecord)
            {
                _ended = true;
                continue;
            }
            if (data.Length < 17 || data[0] != ChunkRecord) throw new InvalidDataException($"journal '{Stream}' record {record.Seq} is not a log chunk");
            var offset = BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(1));
            _ackedSeq = Math.Max(_ackedSeq, BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(9)));
            var bytes = data[17..];
            _chunks.Add((offset, bytes));
            _length = offset + bytes.Length;
        }
    }

    public async Task<long> Append(long seq, long offset, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        await _writing.WaitAsync();
        try
        {
            return await AppendLocked(seq, offset, data);
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task<long> AppendLocked(long seq, long offset, byte[] data)
    {
        // An ended log takes nothing more: the chunk is acknowledged so its sender stops resending it.
        if (_ended) return _ackedSeq = Math.Max(_ackedSeq, seq);
        if (offset > _length) return _ackedSeq;
        var skip = _length - offset;
        if (skip < data.Length)
        {
            var fresh = data.Length - (int)skip;
            var record = new byte[17 + fresh];
            record[0] = ChunkRecord;
            BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(1), _length);
            BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(9), seq);
            data.AsSpan((int)skip).CopyTo(record.AsSpan(17));
            await journal.AppendAsync(Stream, _epoch, _lastSeq + 1, [record]);
            _lastSeq++;
            _chunks.Add((_length, record[17..]));
            _length += fresh;
            Wake();
        }
        _ackedSeq = Math.Max(_ackedSeq, seq);
        return _ackedSeq;
    }

    public async Task End()
    {
        await _writing.WaitAsync();
        try
        {
            if (_ended) return;
            await journal.AppendAsync(Stream, _epoch, _lastSeq + 1, [new[] { EndRecord }]);
            _lastSeq++;
            _ended = true;
            Wake();
        }
        finally
        {
            _writing.Release();
        }
    }

    public async Task<LogSlice> Read(long offset, int max, int waitMs)
    {
        if (offset >= _length && !_ended && waitMs > 0)
            await Task.WhenAny(_changed.Task, Task.Delay(Math.Min(waitMs, 20_000)));
        return Slice(Math.Max(0, offset), Math.Clamp(max, 1, 1 << 20));
    }

    private LogSlice Slice(long offset, int max)
    {
        if (offset >= _length) return new LogSlice([], offset, _length, _ended);
        var take = (int)Math.Min(max, _length - offset);
        var result = new byte[take];
        var written = 0;
        // Chunks are in offset order: find the first that holds the offset, then copy forward.
        var lo = 0;
        var hi = _chunks.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_chunks[mid].Offset <= offset) lo = mid;
            else hi = mid - 1;
        }
        for (var i = lo; i < _chunks.Count && written < take; i++)
        {
            var (start, data) = _chunks[i];
            var from = (int)Math.Max(0, offset + written - start);
            var count = Math.Min(data.Length - from, take - written);
            data.AsSpan(from, count).CopyTo(result.AsSpan(written));
            written += count;
        }
        return new LogSlice(result, offset, _length, _ended);
    }

    private void Wake()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
