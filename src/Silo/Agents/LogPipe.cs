using Platform.Grains.Builds;

namespace Platform.Silo.Agents;

/// <summary>
/// One job log's chunks from one agent connection on their way to the log grain. The receive loop hands chunks over
/// without waiting for their durable write; chunks that arrive while a write is in flight are merged into the next
/// (one journal write for many, up to <see cref="MaxWriteBytes"/>), in order, and each write is acknowledged to the
/// agent as it lands. A write that fails is not acknowledged: the agent resends from its last acknowledgement, and the
/// log grain skips what it already has and refuses what comes after a gap.
/// </summary>
internal sealed class LogPipe(IJobLogGrain grain, Action<long> acknowledge, Action<Exception> failed)
{
    /// <summary>Largest merged write: chunks are 32 KiB, so up to 32 of them.</summary>
    public const int MaxWriteBytes = 1 << 20;

    /// <summary>Bytes waiting beyond which the receive loop waits for them: a grain slower than the agent holds up its socket, not the silo's memory.</summary>
    public const long MaxPendingBytes = 8L << 20;

    private readonly Lock _lock = new();
    private List<Chunk> _pending = [];
    private long _pendingBytes;
    private bool _running;
    private Task _pump = Task.CompletedTask;

    public readonly record struct Chunk(long Seq, long Offset, byte[] Data);

    /// <summary>Queues a chunk. The task returned completes at once, unless too much is waiting: then once it is written.</summary>
    public Task Add(long seq, long offset, byte[] data)
    {
        lock (_lock)
        {
            _pending.Add(new Chunk(seq, offset, data));
            _pendingBytes += data.Length;
            if (!_running)
            {
                _running = true;
                _pump = Task.Run(PumpAsync);
            }
            return _pendingBytes > MaxPendingBytes ? _pump : Task.CompletedTask;
        }
    }

    /// <summary>Completes once every chunk added so far has been written (or has failed).</summary>
    public Task Drained
    {
        get
        {
            lock (_lock) return _pump;
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            List<Chunk> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _running = false;
                    return;
                }
                batch = _pending;
                _pending = [];
                _pendingBytes = 0;
            }
            foreach (var write in Merge(batch, MaxWriteBytes))
            {
                try
                {
                    acknowledge(await grain.Append(write.Seq, write.Offset, write.Data));
                }
                catch (Exception e)
                {
                    failed(e);
                }
            }
        }
    }

    /// <summary>
    /// Chunks in arrival order as writes: each run of chunks that follow one another byte for byte becomes one chunk
    /// (the last one's sequence number, the first one's offset), up to <paramref name="maxBytes"/>; anything else
    /// (a resent or overlapping chunk, a gap) stays a write of its own, in its place.
    /// </summary>
    internal static List<Chunk> Merge(List<Chunk> chunks, int maxBytes)
    {
        var writes = new List<Chunk>();
        var run = 0;
        while (run < chunks.Count)
        {
            var end = run + 1;
            long bytes = chunks[run].Data.Length;
            while (end < chunks.Count
                && chunks[end].Offset == chunks[end - 1].Offset + chunks[end - 1].Data.Length
                && chunks[end].Seq > chunks[end - 1].Seq
                && bytes + chunks[end].Data.Length <= maxBytes)
            {
                bytes += chunks[end].Data.Length;
                end++;
            }
            if (end - run == 1) writes.Add(chunks[run]);
            else
            {
                var data = new byte[bytes];
                var at = 0;
                for (var i = run; i < end; i++)
                {
                    chunks[i].Data.CopyTo(data, at);
                    at += chunks[i].Data.Length;
                }
                writes.Add(new Chunk(chunks[end - 1].Seq, chunks[run].Offset, data));
            }
            run = end;
        }
        return writes;
    }
}
