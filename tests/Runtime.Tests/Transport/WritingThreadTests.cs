using System.Buffers;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Transport;

/// <summary>
/// Which thread writes a frame: the reading thread delivering the last frame it holds writes the first frame it sends
/// at once; any other send goes to the pooled writer, so that frames sent meanwhile share one socket write.
/// </summary>
public sealed class WritingThreadTests
{
    [ThreadStatic] private static bool t_sending;

    [Fact]
    public async Task A_frame_sent_by_a_thread_that_does_not_read_is_written_by_the_pooled_writer_not_by_the_sender()
    {
        var bFrames = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(new RecordingHandler());
        await using var b = await TransportTest.StartAsync(bFrames);
        // Connected first: frames sent before the dial completes are written by the dial, whoever sent them.
        a.Send(b.LocalAddress, TestFrame.OfInt64(0));
        await bFrames.WaitForFramesAsync(1);

        var probes = Enumerable.Range(1, 50).Select(i => new ProbeFrame(i)).ToArray();
        foreach (var probe in probes)
        {
            SendMarked(a, b.LocalAddress, probe);
            await bFrames.WaitForFramesAsync(probe.Value + 1);
        }

        Assert.All(probes, p => Assert.False(p.WrittenWhileSending, $"frame {p.Value} was written on the sender's thread, inside Send"));
        Assert.All(probes, p => Assert.True(p.WrittenOnPool, $"frame {p.Value} was written on thread '{p.WriterThread}', not the thread pool"));
    }

    [Fact]
    public async Task A_frame_sent_by_the_reading_thread_while_it_delivers_its_last_frame_is_written_by_that_thread_at_once()
    {
        var probes = new List<ProbeFrame>();
        await using var pair = await EchoPair.StartAsync(answers: 1, probes);

        // One frame at a time, each answered before the next is sent: every one is the last frame its reader holds.
        for (var i = 1; i <= 50; i++) await pair.AskAsync(i);

        Assert.Equal(50, probes.Count);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => i * 10L), pair.Answers.Skip(1));
        Assert.All(probes, p => Assert.True(p.WrittenWhileSending, $"frame {p.Value} was written later, on thread '{p.WriterThread}', not inside Send on the reading thread"));
        Assert.All(probes, p => Assert.StartsWith("silo-in", p.WriterThread));
    }

    [Fact]
    public async Task A_reading_thread_that_sends_several_frames_while_it_delivers_one_writes_the_first_and_leaves_the_rest_to_the_pooled_writer()
    {
        var probes = new List<ProbeFrame>();
        await using var pair = await EchoPair.StartAsync(answers: 3, probes);

        await pair.AskAsync(1);

        Assert.Equal([10L, 11, 12], pair.Answers.Skip(1));
        Assert.True(probes[0].WrittenWhileSending, $"the first frame was written later, on thread '{probes[0].WriterThread}'");
        Assert.All(probes.Skip(1), p => Assert.False(p.WrittenWhileSending, $"frame {p.Value} was written inside Send on the reading thread"));
    }

    private static void SendMarked(TcpSiloTransport from, SiloAddress to, IOutgoingFrame frame)
    {
        t_sending = true;
        try
        {
            from.Send(to, frame);
        }
        finally
        {
            t_sending = false;
        }
    }

    /// <summary>Records the thread that serialized it and whether that was inside the sender's <c>Send</c>.</summary>
    private sealed class ProbeFrame(long value) : IOutgoingFrame
    {
        public long Value => value;
        public bool WrittenWhileSending { get; private set; }
        public bool WrittenOnPool { get; private set; }
        public string WriterThread { get; private set; } = "";

        public void Write(IBufferWriter<byte> output)
        {
            WrittenWhileSending = t_sending;
            WrittenOnPool = Thread.CurrentThread.IsThreadPoolThread;
            WriterThread = Thread.CurrentThread.Name ?? $"#{Environment.CurrentManagedThreadId}";
            output.Write(BitConverter.GetBytes(value));
        }

        public void OnSendFailed(Exception error) { }
    }

    /// <summary>
    /// Silo a asks, silo b answers each frame from its reading thread with <c>answers</c> probes sent through
    /// <see cref="SendMarked"/>. b's connection to a is open before the first question, so the dial writes none of them.
    /// </summary>
    private sealed class EchoPair(TcpSiloTransport a, TcpSiloTransport b, RecordingHandler aFrames, int answers) : IAsyncDisposable
    {
        public static async Task<EchoPair> StartAsync(int answers, List<ProbeFrame> probes)
        {
            var aFrames = new RecordingHandler();
            var a = await TransportTest.StartAsync(aFrames);
            TcpSiloTransport? b = null;
            b = await TransportTest.StartAsync(new EchoHandler((from, value) =>
            {
                for (var i = 0; i < answers; i++)
                {
                    var probe = new ProbeFrame(value * 10 + i);
                    lock (probes) probes.Add(probe);
                    SendMarked(b!, from, probe);
                }
            }));
            b.Send(a.LocalAddress, TestFrame.OfInt64(0));
            await aFrames.WaitForFramesAsync(1);
            return new EchoPair(a, b, aFrames, answers);
        }

        public IEnumerable<long> Answers => aFrames.Frames.Select(f => BitConverter.ToInt64(f.Payload));

        /// <summary>Sends <paramref name="question"/> alone and waits for its answers.</summary>
        public Task AskAsync(long question)
        {
            var before = aFrames.FrameCount;
            a.Send(b.LocalAddress, TestFrame.OfInt64(question));
            return aFrames.WaitForFramesAsync(before + answers);
        }

        public async ValueTask DisposeAsync()
        {
            await b.DisposeAsync();
            await a.DisposeAsync();
        }
    }

    private sealed class EchoHandler(Action<SiloAddress, long> onFrame) : IFrameHandler
    {
        public void OnFrame(SiloAddress from, ReadOnlySequence<byte> payload)
        {
            Span<byte> head = stackalloc byte[8];
            payload.Slice(0, 8).CopyTo(head);
            onFrame(from, BitConverter.ToInt64(head));
        }

        public void OnConnectionLost(SiloAddress peer, Exception reason) { }
    }
}
