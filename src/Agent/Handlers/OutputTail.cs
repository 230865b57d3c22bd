namespace Platform.Agent.Handlers;

/// <summary>The last <see cref="Capacity"/> bytes a handler wrote (Serf keeps 8 KB), and how many it wrote in all.</summary>
internal sealed class OutputTail(int capacity)
{
    private readonly byte[] _buffer = new byte[capacity];
    private long _written;

    public int Capacity => _buffer.Length;

    public long TotalWritten => _written;

    public void Write(ReadOnlySpan<byte> data)
    {
        // Bytes dropped from the front of an oversize chunk still count as written; each byte lands at its position mod capacity.
        if (data.Length > _buffer.Length)
        {
            _written += data.Length - _buffer.Length;
            data = data[^_buffer.Length..];
        }
        foreach (var b in data)
        {
            _buffer[_written % _buffer.Length] = b;
            _written++;
        }
    }

    public byte[] ToArray()
    {
        if (_written <= _buffer.Length) return _buffer.AsSpan(0, (int)_written).ToArray();
        var start = (int)(_written % _buffer.Length);
        var result = new byte[_buffer.Length];
        _buffer.AsSpan(start).CopyTo(result);
        _buffer.AsSpan(0, start).CopyTo(result.AsSpan(_buffer.Length - start));
        return result;
    }
}
