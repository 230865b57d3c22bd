using System.Buffers;
using System.Buffers.Binary;

namespace Platform.Runtime.Transport;

/// <summary>
/// The bytes of one write batch: length-prefixed frames in pooled segments, handed to the socket
/// in one gathered send. Frames are serialized straight into it; a frame that turns out too large
/// (or whose serializer throws) is cut back out, which a <see cref="System.IO.Pipelines.PipeWriter"/>
/// cannot do once bytes are advanced — that is why the write side owns its buffer.
/// </summary>
internal sealed class FrameBatch : IBufferWriter<byte>, IDisposable
{
    /// <summary>Segment size: large enough that a batch of small frames is one or two segments.</summary>
    public const int SegmentSize = 64 * 1024;

    private readonly List<byte[]> _segments = [];
    private readonly List<int> _filled = [];  // bytes used in each segment before the current one
    private readonly List<ArraySegment<byte>> _gather = [];
    private int _current;
    private int _used;
    private long _length;

    // Where the frame being written starts: its 4-byte prefix is patched when the frame ends.
    private int _frameSegment;
    private int _frameOffset;
    private long _frameStart = -1;

    public FrameBatch() => _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));

    /// <summary>Bytes in the batch, prefixes included.</summary>
    public long Length => _length;

    /// <summary>Payload bytes written since <see cref="BeginFrame"/>.</summary>
    public long FrameLength => _length - _frameStart - FrameCodec.PrefixLength;

    /// <summary>Reserves the length prefix of a new frame; the payload is written through this writer.</summary>
    public void BeginFrame()
    {
        EnsureSpace(FrameCodec.PrefixLength);
        _frameSegment = _current;
        _frameOffset = _used;
        _frameStart = _length;
        Advance(FrameCodec.PrefixLength);
    }

    /// <summary>Keeps the frame: patches its length prefix.</summary>
    public void EndFrame()
    {
        BinaryPrimitives.WriteInt32LittleEndian(_segments[_frameSegment].AsSpan(_frameOffset, FrameCodec.PrefixLength), checked((int)FrameLength));
        _frameStart = -1;
    }

    /// <summary>Drops the frame, prefix and all, as if it had never been written.</summary>
    public void DiscardFrame()
    {
        for (var i = _segments.Count - 1; i > _frameSegment; i--)
        {
            ArrayPool<byte>.Shared.Return(_segments[i]);
            _segments.RemoveAt(i);
        }
        _filled.RemoveRange(_frameSegment, _filled.Count - _frameSegment);
        _current = _frameSegment;
        _used = _frameOffset;
        _length = _frameStart;
        _frameStart = -1;
    }

    /// <summary>The filled parts of the segments, for one gathered send.</summary>
    public IList<ArraySegment<byte>> GetSegments()
    {
        _gather.Clear();
        for (var i = 0; i <= _current; i++)
        {
            var count = i == _current ? _used : _filled[i];
            if (count > 0) _gather.Add(new ArraySegment<byte>(_segments[i], 0, count));
        }
        return _gather;
    }

    /// <summary>Empties the batch, keeping one ordinary segment for the next.</summary>
    public void Reset()
    {
        for (var i = _segments.Count - 1; i > 0; i--)
        {
            ArrayPool<byte>.Shared.Return(_segments[i]);
            _segments.RemoveAt(i);
        }
        if (_segments[0].Length > SegmentSize)
        {
            // A huge frame's segment is not kept around for every later batch.
            ArrayPool<byte>.Shared.Return(_segments[0]);
            _segments[0] = ArrayPool<byte>.Shared.Rent(SegmentSize);
        }
        _filled.Clear();
        _gather.Clear();
        _current = 0;
        _used = 0;
        _length = 0;
        _frameStart = -1;
    }

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_segments[_current].Length - _used))
            throw new ArgumentOutOfRangeException(nameof(count), count, "Advanced past the end of the span the frame batch handed out.");
        _used += count;
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureSpace(sizeHint);
        return _segments[_current].AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureSpace(sizeHint);
        return _segments[_current].AsSpan(_used);
    }

    public void Dispose()
    {
        foreach (var segment in _segments) ArrayPool<byte>.Shared.Return(segment);
        _segments.Clear();
        _filled.Clear();
        _gather.Clear();
    }

    private void EnsureSpace(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_segments[_current].Length - _used >= sizeHint) return;
        _filled.Add(_used);
        _segments.Add(ArrayPool<byte>.Shared.Rent(Math.Max(SegmentSize, sizeHint)));
        _current++;
        _used = 0;
    }
}
