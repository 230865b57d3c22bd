using System.Buffers;

namespace Platform.Grains.Keys;

/// <summary>
/// A journal record of the keyspace: one write as it was asked, with the time it ran at (which fixes its TTLs), or
/// an expiry run. Replaying the records in order with the same times rebuilds the same store, indexes included.
/// </summary>
/// <remarks>
/// Layout (version 1): version, op, time (UTC ticks, 8 bytes), flags, then key, value, TTL ticks, previous value,
/// previous index and client flags when present. An expiry record holds only the time.
/// </remarks>
public static class KeyRecord
{
    private const byte Version = 1;
    private const byte FlagDir = 1, FlagRecursive = 2, FlagRefresh = 4, FlagTtl = 8, FlagPrevValue = 16, FlagPrevIndex = 32, FlagClientFlags = 64;

    /// <summary>Encodes a write that ran at <paramref name="at"/>.</summary>
    public static byte[] Write(KeyRequest request, DateTimeOffset at)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + request.Key.Length + request.Value.Length * 3);
        var writer = new KeyStoreSnapshot.Writer(buffer);
        writer.Byte(Version);
        writer.Byte((byte)request.Op);
        writer.Int64(at.UtcTicks);
        if (request.Op == KeyOp.Expire) return buffer.WrittenSpan.ToArray();
        var flags = (request.Dir ? FlagDir : 0) | (request.Recursive ? FlagRecursive : 0) | (request.Refresh ? FlagRefresh : 0)
            | (request.Ttl is null ? 0 : FlagTtl) | (request.PrevValue is null ? 0 : FlagPrevValue) | (request.PrevIndex is null ? 0 : FlagPrevIndex) | (request.Flags == 0 ? 0 : FlagClientFlags);
        writer.Byte((byte)flags);
        writer.String(request.Key);
        writer.String(request.Value);
        if (request.Ttl is { } ttl) writer.Int64(ttl.Ticks);
        if (request.PrevValue is { } prevValue) writer.String(prevValue);
        if (request.PrevIndex is { } prevIndex) writer.VarUInt(prevIndex);
        if (request.Flags != 0) writer.VarUInt(request.Flags);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An expiry run at <paramref name="at"/>.</summary>
    public static byte[] WriteExpiry(DateTimeOffset at) => Write(new KeyRequest { Op = KeyOp.Expire }, at);

    /// <summary>Decodes a record; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static (KeyRequest Request, DateTimeOffset At) Read(ReadOnlySpan<byte> data)
    {
        var reader = new KeyStoreSnapshot.Reader(data);
        var version = reader.Byte("record version");
        if (version != Version) throw reader.Corrupt($"record version {version} is not supported (expected {Version})");
        var op = reader.Byte("record op");
        if (op is (byte)KeyOp.Get or > (byte)KeyOp.Expire) throw reader.Corrupt($"unknown record op {op}");
        var ticks = reader.Int64("record time");
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks) throw reader.Corrupt($"record time {ticks} is out of range");
        var at = new DateTimeOffset(ticks, TimeSpan.Zero);
        if (op == (byte)KeyOp.Expire)
        {
            if (!reader.AtEnd) throw reader.Corrupt("unexpected bytes after an expiry record");
            return (new KeyRequest { Op = KeyOp.Expire }, at);
        }
        var flags = reader.Byte("record flags");
        var key = reader.String("record key");
        var value = reader.String("record value");
        TimeSpan? ttl = (flags & FlagTtl) != 0 ? TimeSpan.FromTicks(reader.Int64("record ttl")) : null;
        var prevValue = (flags & FlagPrevValue) != 0 ? reader.String("record prevValue") : null;
        ulong? prevIndex = (flags & FlagPrevIndex) != 0 ? reader.VarUInt("record prevIndex") : null;
        var clientFlags = (flags & FlagClientFlags) != 0 ? reader.VarUInt("record client flags") : 0;
        if (!reader.AtEnd) throw reader.Corrupt("unexpected bytes after the record");
        var request = new KeyRequest
        {
            Op = (KeyOp)op,
            Key = key,
            Value = value,
            Ttl = ttl,
            Dir = (flags & FlagDir) != 0,
            Recursive = (flags & FlagRecursive) != 0,
            Refresh = (flags & FlagRefresh) != 0,
            PrevValue = prevValue,
            PrevIndex = prevIndex,
            Flags = clientFlags,
        };
        return (request, at);
    }
}
