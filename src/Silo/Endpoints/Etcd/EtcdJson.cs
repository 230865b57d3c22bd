using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// etcd v2's JSON, byte for byte as etcd writes it (Go's <c>encoding/json</c>): field order and omissions of
/// <c>Event</c>, <c>NodeExtern</c> and <c>Error</c>, Go's string escaping (HTML characters as <c>\u003c</c>,
/// control characters, U+2028/U+2029), RFC 3339 expirations with trimmed nanoseconds, and the newline that ends
/// every body.
/// </summary>
internal static class EtcdJson
{
    /// <summary>An event (a reply or a watch notification). With <paramref name="noValueOnSuccess"/>, writes leave their nodes out.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, KeyEvent e, bool noValueOnSuccess = false)
    {
        var w = new Writer(output);
        w.Raw("{\"action\":\""u8);
        w.Raw(ActionBytes(e.Action));
        w.Raw("\""u8);
        var omitNodes = noValueOnSuccess && e.Action is KeyAction.Set or KeyAction.CompareAndSwap or KeyAction.Create or KeyAction.Update;
        if (!omitNodes)
        {
            w.Raw(",\"node\":"u8);
            WriteNode(ref w, e.Node);
            if (e.PrevNode is not null)
            {
                w.Raw(",\"prevNode\":"u8);
                WriteNode(ref w, e.PrevNode);
            }
        }
        if (e.Refresh) w.Raw(",\"refresh\":true"u8);
        w.Raw("}\n"u8);
    }

    /// <summary>An event as a new array.</summary>
    public static byte[] Event(KeyEvent e, bool noValueOnSuccess = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteEvent(buffer, e, noValueOnSuccess);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An error: <c>{"errorCode":100,"message":"Key not found","cause":"/foo","index":7}</c>.</summary>
    public static void WriteError(IBufferWriter<byte> output, KeyErrorCode code, string? cause, ulong index)
    {
        var w = new Writer(output);
        w.Raw("{\"errorCode\":"u8);
        w.Number((ulong)code);
        w.Raw(",\"message\":"u8);
        w.String(KeyErrors.Message(code));
        if (!string.IsNullOrEmpty(cause))
        {
            w.Raw(",\"cause\":"u8);
            w.String(cause);
        }
        w.Raw(",\"index\":"u8);
        w.Number(index);
        w.Raw("}\n"u8);
    }

    /// <summary>A string as Go's encoder writes it, quotes included.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value) => new Writer(output).String(value);

    private static void WriteNode(ref Writer w, KeyNodeSnapshot node)
    {
        w.Raw("{"u8);
        var first = true;
        // etcd's keys live under "/1"; the prefix is trimmed, so the root's key is empty and left out.
        if (node.Key != KeyPath.Root)
        {
            w.Raw("\"key\":"u8);
            w.String(node.Key);
            first = false;
        }
        if (node.Value is not null)
        {
            w.Raw(first ? "\"value\":"u8 : ",\"value\":"u8);
            w.String(node.Value);
            first = false;
        }
        if (node.Dir)
        {
            w.Raw(first ? "\"dir\":true"u8 : ",\"dir\":true"u8);
            first = false;
        }
        if (node.Expiration is { } expiration)
        {
            w.Raw(first ? "\"expiration\":\""u8 : ",\"expiration\":\""u8);
            w.Ascii(FormatTime(expiration));
            w.Raw("\""u8);
            first = false;
        }
        if (node.Ttl != 0)
        {
            w.Raw(first ? "\"ttl\":"u8 : ",\"ttl\":"u8);
            w.Signed(node.Ttl);
            first = false;
        }
        if (node.Nodes is { Count: > 0 } children)
        {
            w.Raw(first ? "\"nodes\":["u8 : ",\"nodes\":["u8);
            for (var i = 0; i < children.Count; i++)
            {
                if (i > 0) w.Raw(","u8);
                WriteNode(ref w, children[i]);
            }
            w.Raw("]"u8);
            first = false;
        }
        if (node.ModifiedIndex != 0)
        {
            w.Raw(first ? "\"modifiedIndex\":"u8 : ",\"modifiedIndex\":"u8);
            w.Number(node.ModifiedIndex);
            first = false;
        }
        if (node.CreatedIndex != 0)
        {
            w.Raw(first ? "\"createdIndex\":"u8 : ",\"createdIndex\":"u8);
            w.Number(node.CreatedIndex);
        }
        w.Raw("}"u8);
    }

    /// <summary>Go's RFC 3339 with nanoseconds, trailing zeros trimmed, in UTC.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (fraction == 0) return text + "Z";
        return text + "." + (fraction * 100).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    private static ReadOnlySpan<byte> ActionBytes(KeyAction action) => action switch
    {
        KeyAction.Get => "get"u8,
        KeyAction.Set => "set"u8,
        KeyAction.Create => "create"u8,
        KeyAction.Update => "update"u8,
        KeyAction.Delete => "delete"u8,
        KeyAction.CompareAndSwap => "compareAndSwap"u8,
        KeyAction.CompareAndDelete => "compareAndDelete"u8,
        KeyAction.Expire => "expire"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "not a keys action"),
    };

    private readonly ref struct Writer(IBufferWriter<byte> output)
    {
        private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(output.GetSpan(bytes.Length));
            output.Advance(bytes.Length);
        }

        public void Ascii(string text)
        {
            var span = output.GetSpan(text.Length);
            for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
            output.Advance(text.Length);
        }

        public void Number(ulong value)
        {
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(value, span, out var written);
            output.Advance(written);
        }

        public void Signed(long value)
        {
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(value, span, out var written);
            output.Advance(written);
        }

        public void String(string value)
        {
            // Worst case: every char becomes \uXXXX (6 bytes); quotes around.
            var span = output.GetSpan(value.Length * 6 + 2);
            var n = 0;
            span[n++] = (byte)'"';
            var start = 0;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != '\u2028' && c != '\u2029') continue;
                n += Encoding.UTF8.GetBytes(value.AsSpan(start, i - start), span[n..]);
                span[n++] = (byte)'\\';
                switch (c)
                {
                    case '"' or '\\':
                        span[n++] = (byte)c;
                        break;
                    case '\n':
                        span[n++] = (byte)'n';
                        break;
                    case '\r':
                        span[n++] = (byte)'r';
                        break;
                    case '\t':
                        span[n++] = (byte)'t';
                        break;
                    default:
                        span[n++] = (byte)'u';
                        span[n++] = Hex[c >> 12];
                        span[n++] = Hex[(c >> 8) & 0xF];
                        span[n++] = Hex[(c >> 4) & 0xF];
                        span[n++] = Hex[c & 0xF];
                        break;
                }
                start = i + 1;
            }
            n += Encoding.UTF8.GetBytes(value.AsSpan(start), span[n..]);
            span[n++] = (byte)'"';
            output.Advance(n);
        }
    }
}
