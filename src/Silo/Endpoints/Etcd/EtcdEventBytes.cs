using System.Buffers;
using System.Buffers.Text;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// A watched event as etcd's watchers receive it, made once per event per silo and shared by every watcher it wakes:
/// the JSON body, and the same bytes framed as the end of a chunked long-poll response whose head went out already.
/// </summary>
internal sealed class EtcdEventBytes
{
    private readonly byte[] _chunk;
    private readonly int _bodyStart, _bodyLength;

    private EtcdEventBytes(KeyEvent e)
    {
        var body = EtcdJson.Event(e);
        Span<byte> size = stackalloc byte[16];
        Utf8Formatter.TryFormat(body.Length, size, out var digits, new StandardFormat('x'));
        // "<size>\r\n<body>\r\n0\r\n\r\n": the body as one chunk, then the last chunk; one array, sent as is.
        _chunk = new byte[digits + 2 + body.Length + 7];
        size[..digits].CopyTo(_chunk);
        "\r\n"u8.CopyTo(_chunk.AsSpan(digits));
        body.CopyTo(_chunk, digits + 2);
        "\r\n0\r\n\r\n"u8.CopyTo(_chunk.AsSpan(digits + 2 + body.Length));
        _bodyStart = digits + 2;
        _bodyLength = body.Length;
    }

    /// <summary>The event's bytes, made by the first watcher that needs them.</summary>
    public static EtcdEventBytes Of(KeyWatchEvent e) => e.Rendered(static e => new EtcdEventBytes(e));

    /// <summary>The event as etcd writes a watch notification (newline included).</summary>
    public ReadOnlyMemory<byte> Body => _chunk.AsMemory(_bodyStart, _bodyLength);

    /// <summary>The end of a chunked long-poll response: the body as one chunk, then the last chunk.</summary>
    public ReadOnlyMemory<byte> LastChunk => _chunk;
}
