using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Platform.Runtime.Serialization;

/// <summary>
/// Writes the compact wire format straight into a buffer writer (the connection's pipe):
/// variable-length integers, length-prefixed UTF-8 strings and raw bytes.
/// </summary>
public ref struct MessageWriter
{
    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _buffered;

    public MessageWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _span = output.GetSpan(256);
        _buffered = 0;
    }

    /// <summary>Hands what was written to the underlying buffer writer; call once at the end.</summary>
    public void Commit()
    {
        if (_buffered > 0) _output.Advance(_buffered);
        _buffered = 0;
        _span = default;
    }

    private Span<byte> Reserve(int size)
    {
        if (_span.Length - _buffered < size)
        {
            if (_buffered > 0) _output.Advance(_buffered);
            _buffered = 0;
            _span = _output.GetSpan(Math.Max(size, 256));
        }
        return _span[_buffered..];
    }

    public void WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        _buffered++;
    }

    public void WriteVarUInt64(ulong value)
    {
        var span = Reserve(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _buffered += i;
    }

    /// <summary>Signed integers are zig-zag encoded so small negatives stay small.</summary>
    public void WriteVarInt64(long value) => WriteVarUInt64((ulong)((value << 1) ^ (value >> 63)));

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);
        _buffered += 4;
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);
        _buffered += 8;
    }

    /// <summary>A string: 0 for null, otherwise UTF-8 byte length + 1, then the bytes.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 4096)
        {
            // Write the bytes after a worst-case prefix slot, then move them if the real prefix is shorter.
            var span = Reserve(max + 5);
            var written = Encoding.UTF8.GetBytes(value, span[5..]);
            var prefix = VarLength((ulong)written + 1);
            if (prefix != 5) span.Slice(5, written).CopyTo(span[prefix..]);
            WriteVarAt(span, (ulong)written + 1);
            _buffered += prefix + written;
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteVarUInt64((ulong)bytes.Length + 1);
        WriteRaw(bytes);
    }

    /// <summary>Bytes: 0 for null, otherwise length + 1, then the bytes.</summary>
    public void WriteBytes(scoped ReadOnlySpan<byte> value, bool isNull = false)
    {
        if (isNull)
        {
            WriteByte(0);
            return;
        }
        WriteVarUInt64((ulong)value.Length + 1);
        WriteRaw(value);
    }

    public void WriteRaw(scoped ReadOnlySpan<byte> value)
    {
        while (value.Length > 0)
        {
            var span = Reserve(Math.Min(value.Length, 4096));
            var n = Math.Min(span.Length, value.Length);
            value[..n].CopyTo(span);
            _buffered += n;
            value = value[n..];
        }
    }

    private static int VarLength(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    private static void WriteVarAt(Span<byte> span, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i] = (byte)value;
    }
}
