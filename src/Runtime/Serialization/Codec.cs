using System.Text.Json;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Serialization;

public delegate void ValueWriter<T>(ref MessageWriter writer, T value);

public delegate T ValueReader<T>(ref MessageReader reader);

/// <summary>
/// The codec of one type, chosen once per type: compact encodings for primitives, grain ids and
/// grain references, JSON (System.Text.Json, metadata cached) for everything else.
/// </summary>
public static class Codec<T>
{
    public static readonly ValueWriter<T> Write;
    public static readonly ValueReader<T> Read;

    static Codec()
    {
        (Write, Read) = CodecSelector.Select<T>();
    }
}

internal static class CodecSelector
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General) { IncludeFields = true };

    public static (ValueWriter<T>, ValueReader<T>) Select<T>()
    {
        var t = typeof(T);
        if (t == typeof(Invocation.VoidResult)) return Pair<T, VoidResult>(static (ref MessageWriter _, VoidResult _) => { }, static (ref MessageReader _) => default);
        if (t == typeof(int)) return Pair<T, int>(static (ref MessageWriter w, int v) => w.WriteVarInt64(v), static (ref MessageReader r) => checked((int)r.ReadVarInt64()));
        if (t == typeof(long)) return Pair<T, long>(static (ref MessageWriter w, long v) => w.WriteVarInt64(v), static (ref MessageReader r) => r.ReadVarInt64());
        if (t == typeof(uint)) return Pair<T, uint>(static (ref MessageWriter w, uint v) => w.WriteVarUInt64(v), static (ref MessageReader r) => checked((uint)r.ReadVarUInt64()));
        if (t == typeof(ulong)) return Pair<T, ulong>(static (ref MessageWriter w, ulong v) => w.WriteVarUInt64(v), static (ref MessageReader r) => r.ReadVarUInt64());
        if (t == typeof(bool)) return Pair<T, bool>(static (ref MessageWriter w, bool v) => w.WriteByte(v ? (byte)1 : (byte)0), static (ref MessageReader r) => r.ReadByte() != 0);
        if (t == typeof(double)) return Pair<T, double>(static (ref MessageWriter w, double v) => w.WriteDouble(v), static (ref MessageReader r) => r.ReadDouble());
        if (t == typeof(string)) return Pair<T, string?>(static (ref MessageWriter w, string? v) => w.WriteString(v), static (ref MessageReader r) => r.ReadString());
        if (t == typeof(byte[])) return Pair<T, byte[]?>(static (ref MessageWriter w, byte[]? v) => w.WriteBytes(v, v is null), static (ref MessageReader r) => r.ReadBytes());
        if (t == typeof(TimeSpan)) return Pair<T, TimeSpan>(static (ref MessageWriter w, TimeSpan v) => w.WriteVarInt64(v.Ticks), static (ref MessageReader r) => TimeSpan.FromTicks(r.ReadVarInt64()));
        if (t == typeof(DateTimeOffset))
            return Pair<T, DateTimeOffset>(
                static (ref MessageWriter w, DateTimeOffset v) =>
                {
                    w.WriteVarInt64(v.UtcTicks);
                    w.WriteVarInt64(v.Offset.Ticks);
                },
                static (ref MessageReader r) =>
                {
                    var utc = r.ReadVarInt64();
                    var offset = TimeSpan.FromTicks(r.ReadVarInt64());
                    return new DateTimeOffset(utc + offset.Ticks, offset);
                });
        if (t == typeof(Guid))
            return Pair<T, Guid>(
                static (ref MessageWriter w, Guid v) =>
                {
                    Span<byte> b = stackalloc byte[16];
                    v.TryWriteBytes(b);
                    w.WriteRaw(b);
                },
                static (ref MessageReader r) =>
                {
                    Span<byte> b = stackalloc byte[16];
                    for (var i = 0; i < 16; i++) b[i] = r.ReadByte();
                    return new Guid(b);
                });
        if (t == typeof(GrainId)) return Pair<T, GrainId>(static (ref MessageWriter w, GrainId v) => GrainIdCodec.Write(ref w, v), static (ref MessageReader r) => GrainIdCodec.Read(ref r));
        if (t.IsInterface && (typeof(IGrain).IsAssignableFrom(t) || typeof(IGrainObserver).IsAssignableFrom(t)))
            return (GrainReferenceCodec.Write<T>, GrainReferenceCodec.Read<T>);
        return (JsonWrite<T>, JsonRead<T>);
    }

    private static (ValueWriter<T>, ValueReader<T>) Pair<T, TActual>(ValueWriter<TActual> write, ValueReader<TActual> read)
        => ((ValueWriter<T>)(object)write, (ValueReader<T>)(object)read);

    private static void JsonWrite<T>(ref MessageWriter writer, T value)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        writer.WriteBytes(bytes);
    }

    private static T JsonRead<T>(ref MessageReader reader)
    {
        var bytes = reader.ReadBytes() ?? throw new InvalidDataException($"Malformed frame: missing JSON value of {typeof(T).Name}.");
        return JsonSerializer.Deserialize<T>(bytes, Json)!;
    }
}

/// <summary>Grain ids on the wire: type then key.</summary>
public static class GrainIdCodec
{
    public static void Write(ref MessageWriter writer, GrainId id)
    {
        writer.WriteString(id.Type);
        writer.WriteString(id.Key);
    }

    public static GrainId Read(ref MessageReader reader)
    {
        var type = reader.ReadString() ?? throw new InvalidDataException("Malformed frame: grain id without a type.");
        return new GrainId(type, reader.ReadString() ?? "");
    }
}

/// <summary>Grain and observer references travel as their grain id; the receiver binds a proxy to its own runtime.</summary>
internal static class GrainReferenceCodec
{
    public static void Write<T>(ref MessageWriter writer, T value)
    {
        if (value is null)
        {
            writer.WriteByte(0);
            return;
        }
        if (value is not GrainReference reference)
            throw new ArgumentException($"A {typeof(T).Name} passed to a grain must be a grain reference or an object reference from CreateObjectReference, not a plain {value.GetType().Name}.");
        writer.WriteByte(1);
        GrainIdCodec.Write(ref writer, reference.GrainId);
    }

    public static T Read<T>(ref MessageReader reader)
    {
        if (reader.ReadByte() == 0) return default!;
        var id = GrainIdCodec.Read(ref reader);
        return (T)GrainTypeRegistry.GetInterface<T>().ProxyFactory(reader.Invoker, id);
    }
}
