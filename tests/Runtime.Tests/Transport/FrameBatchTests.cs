using System.Buffers;
using System.Buffers.Binary;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Transport;

public sealed class FrameBatchTests
{
    private static byte[] Flatten(FrameBatch batch) => [.. batch.GetSegments().SelectMany(s => s)];

    private static List<byte[]> Parse(byte[] bytes)
    {
        var frames = new List<byte[]>();
        var buffer = new ReadOnlySequence<byte>(bytes);
        while (FrameCodec.TryReadFrame(ref buffer, int.MaxValue, out var payload, out _) == FrameStatus.Complete) frames.Add(payload.ToArray());
        Assert.True(buffer.IsEmpty, "bytes left after the last frame");
        return frames;
    }

    private static void WriteFrame(FrameBatch batch, byte[] payload)
    {
        batch.BeginFrame();
        batch.Write(payload);
        batch.EndFrame();
    }

    [Fact]
    public void Frames_get_their_length_prefix_patched_across_segments()
    {
        using var batch = new FrameBatch();
        var payloads = Enumerable.Range(0, 50).Select(i => Enumerable.Repeat((byte)i, i * 3001).ToArray()).ToArray();
        foreach (var p in payloads) WriteFrame(batch, p);

        Assert.True(batch.GetSegments().Count > 1);
        Assert.Equal(payloads.Sum(p => 4L + p.Length), batch.Length);
        Assert.Equal(payloads, Parse(Flatten(batch)));
    }

    [Fact]
    public void A_discarded_frame_leaves_no_trace_even_when_it_spanned_segments()
    {
        using var batch = new FrameBatch();
        WriteFrame(batch, [1, 2, 3]);
        batch.BeginFrame();
        batch.Write(new byte[3 * FrameBatch.SegmentSize]);
        Assert.Equal(3 * FrameBatch.SegmentSize, batch.FrameLength);
        batch.DiscardFrame();
        WriteFrame(batch, [4, 5]);

        Assert.Equal(4 + 3 + 4 + 2, batch.Length);
        Assert.Equal([[1, 2, 3], [4, 5]], Parse(Flatten(batch)));
    }

    [Fact]
    public void Reset_empties_the_batch_for_reuse()
    {
        using var batch = new FrameBatch();
        WriteFrame(batch, new byte[200_000]);
        batch.Reset();
        Assert.Equal(0, batch.Length);
        Assert.Empty(batch.GetSegments());
        WriteFrame(batch, [9]);
        Assert.Equal([[9]], Parse(Flatten(batch)));
    }

    [Fact]
    public void A_length_prefix_split_across_buffer_segments_is_read()
    {
        var bytes = new byte[4 + 5];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, 5);
        var first = new Segment(bytes.AsMemory(0, 2));
        var last = first.Append(bytes.AsMemory(2));
        var buffer = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);

        Assert.Equal(FrameStatus.Complete, FrameCodec.TryReadFrame(ref buffer, 16, out var payload, out var length));
        Assert.Equal(5, length);
        Assert.Equal(5, payload.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_length_prefix_over_the_limit_is_reported_before_the_payload_arrives()
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, uint.MaxValue);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(FrameStatus.TooLarge, FrameCodec.TryReadFrame(ref buffer, 1024, out _, out var length));
        Assert.Equal(uint.MaxValue, length);
    }

    [Fact]
    public void Hello_round_trips_both_addresses()
    {
        var from = new Membership.SiloAddress("10.0.0.1", 11111, 123);
        var to = new Membership.SiloAddress("10.0.0.2", 11112, 456);
        var output = new ArrayBufferWriter<byte>();
        FrameCodec.WriteHello(output, from, to);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.Equal(FrameStatus.Complete, FrameCodec.TryReadFrame(ref buffer, FrameCodec.MaxHelloLength, out var payload, out _));
        Assert.True(FrameCodec.TryParseHello(payload, out var parsedFrom, out var parsedTo, out var error), error);
        Assert.Equal(from, parsedFrom);
        Assert.Equal(to, parsedTo);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
