using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Platform.Grains.Keys;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>
/// Consul's KV JSON as Consul (Go's <c>encoding/json</c>) writes it: entries
/// (<c>[{"CreateIndex":..,"Key":"a/b","Value":"&lt;base64&gt;",...}]</c>) and key lists, strings escaped as Go does.
/// </summary>
internal static class ConsulKvJson
{
    /// <summary>
    /// Entries in Consul's field order. <c>Value</c> is the UTF-8 text in base64, or null for a folder and for an
    /// empty value (Consul stores an empty body as no value).
    /// </summary>
    public static byte[] Entries(IReadOnlyList<(string Name, KeyNodeSnapshot Node)> entries)
    {
        var output = new ArrayBufferWriter<byte>(160 * entries.Count + 2);
        output.Write("["u8);
        for (var i = 0; i < entries.Count; i++)
        {
            var (name, node) = entries[i];
            output.Write(i == 0 ? "{\"CreateIndex\":"u8 : ",{\"CreateIndex\":"u8);
            Number(output, node.CreatedIndex);
            output.Write(",\"ModifyIndex\":"u8);
            Number(output, node.ModifiedIndex);
            output.Write(",\"LockIndex\":0,\"Key\":"u8);
            EtcdJson.WriteString(output, name);
            output.Write(",\"Flags\":"u8);
            Number(output, node.Flags);
            output.Write(",\"Value\":"u8);
            if (node.Dir || string.IsNullOrEmpty(node.Value)) output.Write("null"u8);
            else Base64String(output, node.Value);
            output.Write(",\"Session\":\"\"}"u8);
        }
        output.Write("]"u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A JSON array of key names.</summary>
    public static byte[] Keys(IReadOnlyList<string> names)
    {
        var output = new ArrayBufferWriter<byte>(32 * names.Count + 2);
        output.Write("["u8);
        for (var i = 0; i < names.Count; i++)
        {
            if (i != 0) output.Write(","u8);
            EtcdJson.WriteString(output, names[i]);
        }
        output.Write("]"u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary><c>true</c> or <c>false</c>: what a write answers.</summary>
    public static byte[] Bool(bool value) => value ? "true"u8.ToArray() : "false"u8.ToArray();

    private static void Number(ArrayBufferWriter<byte> output, ulong value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    private static void Base64String(ArrayBufferWriter<byte> output, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var length = Base64.GetMaxEncodedToUtf8Length(bytes.Length);
        var span = output.GetSpan(length + 2);
        span[0] = (byte)'"';
        Base64.EncodeToUtf8(bytes, span[1..], out _, out var written);
        span[1 + written] = (byte)'"';
        output.Advance(written + 2);
    }
}
