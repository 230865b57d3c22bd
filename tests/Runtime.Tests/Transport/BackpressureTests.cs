using System.Net;
using System.Net.Sockets;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.Transport;

/// <summary>A peer that stops reading its socket: the sender's queue to it stays bounded and senders are told why.</summary>
public sealed class BackpressureTests(ITestOutputHelper output)
{
    private const int Limit = 100;

    [Fact]
    public async Task A_peer_that_stops_reading_keeps_the_queue_bounded_and_later_sends_fail_with_SiloOverloadedException_naming_it()
    {
        // Accepts the connection and never reads from it: the kernel's buffers fill, then the writer stalls.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        stalled.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        stalled.Listen(1);
        var accepting = stalled.AcceptAsync();
        var peer = new SiloAddress("127.0.0.1", ((IPEndPoint)stalled.LocalEndPoint!).Port, 0);
        await using var sender = await TransportTest.StartAsync(new RecordingHandler(), o => o.MaxQueuedFrames = Limit);

        // 20,000 frames of 64 KiB (1.3 GB) offered; one shared payload, so the test itself holds only frame objects.
        var payload = new byte[64 * 1024];
        var taken = new List<TestFrame>();
        SiloOverloadedException? overloaded = null;
        var maxQueued = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var frame = new TestFrame(payload);
            sender.Send(peer, frame);
            if (!frame.Failed.IsCompleted) taken.Add(frame);
            else overloaded ??= Assert.IsType<SiloOverloadedException>(await frame.Failed);
            maxQueued = Math.Max(maxQueued, sender.QueuedFrames(peer));
            if (i % 64 == 0) await Task.Yield();  // lets the writer take what it can
        }
        using var accepted = await accepting;

        Assert.NotNull(overloaded);
        output.WriteLine($"{taken.Count} of 20,000 frames taken (queued, batched or in the kernel's buffers); the others were refused: {overloaded.Message}");
        Assert.Contains($"silo {peer} at {peer.Endpoint}", overloaded.Message);
        Assert.Contains($"{Limit} frames, TransportOptions.MaxQueuedFrames", overloaded.Message);
        Assert.InRange(maxQueued, 1, Limit);
        // Besides the queue, only the socket buffers (a few MiB) and one 1 MiB batch hold frames.
        Assert.InRange(taken.Count, Limit, Limit + 400);

        // Once the peer goes away, what was still queued fails with the connection, and nothing is left queued.
        var queuedAtClose = sender.QueuedFrames(peer);
        GracefulCloseForTest(accepted);
        await TransportTest.Eventually(() => sender.QueuedFrames(peer) == 0, "the queue to the closed peer to empty");
        await TransportTest.Eventually(() => taken.Count(f => f.Failed.IsCompleted) >= queuedAtClose, $"{queuedAtClose} queued frames to fail");
        Assert.All(taken.Where(f => f.Failed.IsCompleted), f => Assert.IsType<SiloUnavailableException>(f.Failed.Result));
    }

    [Fact]
    public async Task A_full_queue_refuses_only_while_full_and_every_frame_it_took_is_delivered()
    {
        var received = new RecordingHandler();
        await using var receiver = await TransportTest.StartAsync(received);
        await using var sender = await TransportTest.StartAsync(new RecordingHandler(), o => o.MaxQueuedFrames = 4);
        var peer = receiver.LocalAddress;
        sender.Send(peer, TestFrame.OfInt64(0));
        await received.WaitForFramesAsync(1);

        // The writer is held inside a frame's serializer (sent from another thread, which it may then hold).
        using var gate = new ManualResetEventSlim();
        var held = new TestFrame(new byte[8], gate);
        _ = Task.Run(() => sender.Send(peer, held));
        await held.Writing.WaitAsync(TimeSpan.FromSeconds(10));

        var queued = Enumerable.Range(1, 4).Select(i => TestFrame.OfInt64(i)).ToArray();
        foreach (var frame in queued) sender.Send(peer, frame);
        var refused = TestFrame.OfInt64(5);
        sender.Send(peer, refused);
        Assert.All(queued, f => Assert.False(f.Failed.IsCompleted));
        var error = Assert.IsType<SiloOverloadedException>(await TransportTest.FailureOf(refused.Failed));
        Assert.Contains("4 frames, TransportOptions.MaxQueuedFrames", error.Message);

        gate.Set();
        await received.WaitForFramesAsync(6);
        var next = TestFrame.OfInt64(6);
        sender.Send(peer, next);
        await received.WaitForFramesAsync(7);
        Assert.Equal([0L, 0L, 1L, 2L, 3L, 4L, 6L], received.Frames.Select(f => BitConverter.ToInt64(f.Payload)));
        Assert.All(queued.Append(held).Append(next), f => Assert.Equal(0, f.Failures));
    }

    private static void GracefulCloseForTest(Socket socket)
    {
        socket.Shutdown(SocketShutdown.Both);
        socket.Close();
    }
}
