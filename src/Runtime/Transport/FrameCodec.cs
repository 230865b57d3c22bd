using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Transport;

/// <summary>The outcome of looking for one frame at the start of a buffer.</summary>
internal enum FrameStatus
{
    /// <summary>Not all of the frame has arrived yet.</summary>
    Incomplete,

    /// <summary>A whole frame was sliced off the buffer.</summary>
    Complete,

    /// <summary>The length prefix announces a frame over the limit: the stream cannot be trusted.</summary>
    TooLarge,
}

/// <summary>
/// The wire format: every frame is a 4-byte little-endian payload length followed by the payload.
/// The dialing silo's first frame is a hello (<c>platform-silo/1 {from} {to}</c>) naming itself and
/// the incarnation it meant to reach; an accepting silo that refuses the connection answers with a
/// single reject frame (<c>platform-silo-reject/1 {reason}</c>, or <c>platform-silo-refuse/1 {reason}</c> when it refuses the
/// dialer's identity: its certificate, or plain TCP against TLS) and closes.
/// </summary>
internal static class FrameCodec
{
    public const int PrefixLength = 4;

    /// <summary>Bound on the hello: anything larger is not a Platform silo talking.</summary>
    public const int MaxHelloLength = 1024;

    private static ReadOnlySpan<byte> HelloTag => "platform-silo/1 "u8;
    private static ReadOnlySpan<byte> RejectTag => "platform-silo-reject/1 "u8;

    // A refusal of who the peer is (its certificate, TLS or not): unlike a reject (a stale address, a slow hello), retrying cannot help.
    private static ReadOnlySpan<byte> RefuseTag => "platform-silo-refuse/1 "u8;

    /// <summary>
    /// Slices the first frame's payload off <paramref name="buffer"/> when it is complete. The
    /// payload is a view of the same memory, valid until the reader advances past it.
    /// </summary>
    public static FrameStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> payload, out long length)
    {
        payload = default;
        length = 0;
        if (buffer.Length < PrefixLength) return FrameStatus.Incomplete;

        uint prefix;
        var first = buffer.FirstSpan;
        if (first.Length >= PrefixLength)
        {
            prefix = BinaryPrimitives.ReadUInt32LittleEndian(first);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[PrefixLength];
            buffer.Slice(0, PrefixLength).CopyTo(bytes);
            prefix = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        }

        length = prefix;
        if (length > maxFrameSize) return FrameStatus.TooLarge;
        if (buffer.Length - PrefixLength < length) return FrameStatus.Incomplete;

        payload = buffer.Slice(PrefixLength, length);
        buffer = buffer.Slice(payload.End);
        return FrameStatus.Complete;
    }

    /// <summary>Writes the hello frame (prefix included) that opens every outbound connection.</summary>
    public static void WriteHello(IBufferWriter<byte> output, SiloAddress from, SiloAddress to)
        => WriteTagged(output, HelloTag, $"{from} {to}");

    /// <summary>Parses a hello payload; on failure <paramref name="error"/> says what was wrong.</summary>
    public static bool TryParseHello(ReadOnlySequence<byte> payload, out SiloAddress from, out SiloAddress to, out string error)
    {
        from = default;
        to = default;
        Span<byte> bytes = stackalloc byte[MaxHelloLength];
        if (payload.Length > MaxHelloLength || !StartsWith(payload, HelloTag))
        {
            error = "the first frame is not a Platform silo hello";
            return false;
        }
        var length = (int)payload.Length;
        payload.CopyTo(bytes);
        var text = Encoding.UTF8.GetString(bytes[HelloTag.Length..length]);
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        try
        {
            if (space < 0) throw new FormatException($"'{text}' has no target address");
            from = SiloAddress.Parse(text[..space]);
            to = SiloAddress.Parse(text[(space + 1)..]);
        }
        catch (FormatException e)
        {
            error = $"malformed hello: {e.Message}";
            return false;
        }
        error = "";
        return true;
    }

    /// <summary>The bytes (prefix included) an accepting silo writes before closing a connection it refuses.</summary>
    public static byte[] EncodeReject(string reason, bool identity = false)
    {
        var output = new ArrayBufferWriter<byte>();
        WriteTagged(output, identity ? RefuseTag : RejectTag, reason);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads a reject frame from what a dialing silo received on its outbound connection.</summary>
    public static bool TryParseReject(ReadOnlySpan<byte> received, out string reason) => TryParseReject(received, out reason, out _);

    /// <summary>Reads a reject frame; <paramref name="identity"/> says whether it refused who the dialer is.</summary>
    public static bool TryParseReject(ReadOnlySpan<byte> received, out string reason, out bool identity)
    {
        reason = "";
        identity = false;
        if (received.Length < PrefixLength) return false;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(received);
        var payload = received[PrefixLength..];
        if (length != payload.Length) return false;
        identity = payload.StartsWith(RefuseTag);
        if (!identity && !payload.StartsWith(RejectTag)) return false;
        reason = Encoding.UTF8.GetString(payload[RejectTag.Length..]);  // both tags have the same length
        return true;
    }

    private static void WriteTagged(IBufferWriter<byte> output, ReadOnlySpan<byte> tag, string text)
    {
        var length = tag.Length + Encoding.UTF8.GetByteCount(text);
        var span = output.GetSpan(PrefixLength + length);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        tag.CopyTo(span[PrefixLength..]);
        Encoding.UTF8.GetBytes(text, span[(PrefixLength + tag.Length)..]);
        output.Advance(PrefixLength + length);
    }

    private static bool StartsWith(ReadOnlySequence<byte> payload, ReadOnlySpan<byte> tag)
    {
        if (payload.Length < tag.Length) return false;
        Span<byte> head = stackalloc byte[tag.Length];
        payload.Slice(0, tag.Length).CopyTo(head);
        return head.SequenceEqual(tag);
    }
}
