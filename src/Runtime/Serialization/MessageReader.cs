using System.Buffers;
using System.Text;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Serialization;

/// <summary>Reads the wire format written by <see cref="MessageWriter"/> from a (possibly segmented) frame.</summary>
public ref struct MessageReader
{
    private SequenceReader<byte> _reader;

    public MessageReader(ReadOnlySequence<byte> input, IGrainCallInvoker invoker)
    {
        _reader = new SequenceReader<byte>(input);
        Invoker = invoker;
    }

    /// <summary>Binds grain references read from the frame to this silo's runtime.</summary>
    public IGrainCallInvoker Invoker { get; }

    public long Remaining => _reader.Remaining;

    public byte ReadByte()
    {
        if (!_reader.TryRead(out var b)) throw Truncated();
        return b;
    }

    /// <summary>Fills <paramref name="destination"/> with the next bytes.</summary>
    public void ReadRaw(scoped Span<byte> destination)
    {
        if (!_reader.TryCopyTo(destination)) throw Truncated();
        _reader.Advance(destination.Length);
    }

    public ulong ReadVarUInt64()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("Malformed frame: variable-length integer longer than 10 bytes.");
    }

    public long ReadVarInt64()
    {
        var raw = ReadVarUInt64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public uint ReadUInt32()
    {
        if (!_reader.TryReadLittleEndian(out int v)) throw Truncated();
        return (uint)v;
    }

    public double ReadDouble()
    {
        if (!_reader.TryReadLittleEndian(out long v)) throw Truncated();
        return BitConverter.Int64BitsToDouble(v);
    }

    public string? ReadString()
    {
        var length = ReadVarUInt64();
        if (length == 0) return null;
        var n = checked((int)(length - 1));
        if (_reader.Remaining < n) throw Truncated();
        string value;
        if (_reader.UnreadSpan.Length >= n)
        {
            value = Encoding.UTF8.GetString(_reader.UnreadSpan[..n]);
        }
        else
        {
            var buffer = new byte[n];
            _reader.TryCopyTo(buffer);
            value = Encoding.UTF8.GetString(buffer);
        }
        _reader.Advance(n);
        return value;
    }

    public byte[]? ReadBytes()
    {
        var length = ReadVarUInt64();
        if (length == 0) return null;
        var n = checked((int)(length - 1));
        if (_reader.Remaining < n) throw Truncated();
        var buffer = new byte[n];
        _reader.TryCopyTo(buffer);
        _reader.Advance(n);
        return buffer;
    }

    private static InvalidDataException Truncated() => new("Malformed frame: it ends before the value being read.");
}
