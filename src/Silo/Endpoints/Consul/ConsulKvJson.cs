using System.Buffers;
using System.Text;
using System.Text.Json;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>Consul's KV JSON: entries (<c>[{"CreateIndex":..,"Key":"a/b","Value":"&lt;base64&gt;",...}]</c>) and key lists.</summary>
internal static class ConsulKvJson
{
    /// <summary>
    /// Entries in Consul's field order. <c>Value</c> is the UTF-8 text in base64, or null for a folder and for an
    /// empty value (Consul stores an empty body as no value).
    /// </summary>
    public static byte[] Entries(IReadOnlyList<(string Name, KeyNodeSnapshot Node)> entries)
    {
        var buffer = new ArrayBufferWriter<byte>(128 * entries.Count + 2);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (name, node) in entries)
            {
                json.WriteStartObject();
                json.WriteNumber("CreateIndex"u8, node.CreatedIndex);
                json.WriteNumber("ModifyIndex"u8, node.ModifiedIndex);
                json.WriteNumber("LockIndex"u8, 0);
                json.WriteString("Key"u8, name);
                json.WriteNumber("Flags"u8, node.Flags);
                if (node.Dir || string.IsNullOrEmpty(node.Value)) json.WriteNull("Value"u8);
                else json.WriteBase64String("Value"u8, Encoding.UTF8.GetBytes(node.Value));
                json.WriteString("Session"u8, ""u8);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON array of key names.</summary>
    public static byte[] Keys(IReadOnlyList<string> names)
    {
        var buffer = new ArrayBufferWriter<byte>(32 * names.Count + 2);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var name in names) json.WriteStringValue(name);
            json.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>true</c> or <c>false</c>: what a write answers.</summary>
    public static byte[] Bool(bool value) => value ? "true"u8.ToArray() : "false"u8.ToArray();
}
