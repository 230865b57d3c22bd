namespace Platform.Builds.Running;

/// <summary>One chunk of a job's log: <see cref="Seq"/> counts from 1, <see cref="Offset"/> is where <see cref="Data"/> starts in the log.</summary>
public sealed record LogChunk(long Seq, long Offset, byte[] Data);

/// <summary>
/// A job's output cut into chunks as it is written (each at most <see cref="MaxChunkBytes"/>, so a frame stays well under
/// the protocol's message limit). Chunks are kept until acknowledged, so a reconnect resends exactly those.
/// </summary>
public sealed class JobLog
{
    /// <summary>The most bytes in one chunk (base64 in a frame: about 44 KB, under the silo's 64 KB message limit).</summary>
    public const int MaxChunkBytes = 32 * 1024;

    private readonly object _gate = new();
    private readonly Queue<LogChunk> _unacknowledged = new();
    private long _nextSeq = 1;
    private long _length;
    private long _acknowledged;

    /// <summary>Raised after chunks are added (on the writer's thread).</summary>
    public event Action? Appended;

    /// <summary>The log's length in bytes.</summary>
    public long Length
    {
        get { lock (_gate) return _length; }
    }

    /// <summary>The last chunk's sequence number (0 before any).</summary>
    public long LastSeq
    {
        get { lock (_gate) return _nextSeq - 1; }
    }

    /// <summary>Every chunk up to this one is acknowledged.</summary>
    public long Acknowledged
    {
        get { lock (_gate) return _acknowledged; }
    }

    /// <summary>Adds <paramref name="data"/> as one or more chunks.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        lock (_gate)
        {
            while (!data.IsEmpty)
            {
                var size = Math.Min(data.Length, MaxChunkBytes);
                _unacknowledged.Enqueue(new LogChunk(_nextSeq++, _length, data[..size].ToArray()));
                _length += size;
                data = data[size..];
            }
        }
        Appended?.Invoke();
    }

    /// <summary>Forgets every chunk up to <paramref name="seq"/>: they are stored.</summary>
    public void Acknowledge(long seq)
    {
        lock (_gate)
        {
            if (seq > _acknowledged) _acknowledged = Math.Min(seq, _nextSeq - 1);
            while (_unacknowledged.TryPeek(out var chunk) && chunk.Seq <= _acknowledged) _unacknowledged.Dequeue();
        }
    }

    /// <summary>The unacknowledged chunks after <paramref name="seq"/>, in order.</summary>
    public List<LogChunk> After(long seq)
    {
        lock (_gate)
        {
            var chunks = new List<LogChunk>();
            foreach (var chunk in _unacknowledged)
                if (chunk.Seq > seq) chunks.Add(chunk);
            return chunks;
        }
    }
}
