using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.Transport;

public sealed class TcpSiloTransportTests(ITestOutputHelper output)
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Port_0_binds_a_free_port_and_the_local_address_carries_it()
    {
        await using var a = await TransportTest.StartAsync(new RecordingHandler(), generation: 42);
        Assert.Equal("127.0.0.1", a.LocalAddress.Host);
        Assert.NotEqual(0, a.LocalAddress.Port);
        Assert.Equal(42, a.LocalAddress.Generation);
    }

    [Fact]
    public async Task Listening_on_any_address_advertises_loopback_unless_told_otherwise()
    {
        await using var any = await TransportTest.StartAsync(new RecordingHandler(), o => o.ListenAddress = "0.0.0.0");
        Assert.Equal("127.0.0.1", any.LocalAddress.Host);
        await using var advertised = await TransportTest.StartAsync(new RecordingHandler(), o => (o.ListenAddress, o.AdvertisedAddress) = ("0.0.0.0", "10.1.2.3"));
        Assert.Equal("10.1.2.3", advertised.LocalAddress.Host);
    }

    [Fact]
    public async Task Frames_arrive_in_order_with_the_senders_address_in_both_directions()
    {
        var aFrames = new RecordingHandler();
        var bFrames = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(aFrames);
        await using var b = await TransportTest.StartAsync(bFrames);

        for (var i = 0; i < 1000; i++)
        {
            a.Send(b.LocalAddress, TestFrame.OfInt64(i, size: 8 + i % 100));
            b.Send(a.LocalAddress, TestFrame.OfInt64(-i));
        }
        await bFrames.WaitForFramesAsync(1000);
        await aFrames.WaitForFramesAsync(1000);

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), bFrames.Frames.Select(f => BitConverter.ToInt64(f.Payload)));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => 8 + i % 100), bFrames.Frames.Select(f => f.Payload.Length));
        Assert.All(bFrames.Frames, f => Assert.Equal(a.LocalAddress, f.From));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)-i), aFrames.Frames.Select(f => BitConverter.ToInt64(f.Payload)));
        Assert.All(aFrames.Frames, f => Assert.Equal(b.LocalAddress, f.From));
        Assert.Empty(aFrames.Lost);
        Assert.Empty(bFrames.Lost);
    }

    [Fact]
    public async Task A_silo_receiving_from_two_peers_knows_which_sent_each_frame()
    {
        var hub = new RecordingHandler();
        await using var b = await TransportTest.StartAsync(hub);
        await using var a = await TransportTest.StartAsync(new RecordingHandler());
        await using var c = await TransportTest.StartAsync(new RecordingHandler());

        for (var i = 0; i < 500; i++)
        {
            a.Send(b.LocalAddress, TestFrame.OfInt64(i));
            c.Send(b.LocalAddress, TestFrame.OfInt64(1_000_000 + i));
        }
        await hub.WaitForFramesAsync(1000);

        var fromA = hub.Frames.Where(f => f.From == a.LocalAddress).Select(f => BitConverter.ToInt64(f.Payload));
        var fromC = hub.Frames.Where(f => f.From == c.LocalAddress).Select(f => BitConverter.ToInt64(f.Payload));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), fromA);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => 1_000_000L + i), fromC);
    }

    [Fact]
    public async Task A_hundred_thousand_small_frames_from_several_threads_all_arrive()
    {
        const int threads = 8, perThread = 12_500, total = threads * perThread;
        var received = new RecordingHandler(keepPayloads: false);
        await using var b = await TransportTest.StartAsync(received);
        await using var a = await TransportTest.StartAsync(new RecordingHandler());
        var target = b.LocalAddress;
        var frames = Enumerable.Range(1, total).Select(i => TestFrame.OfInt64(i, size: 32)).ToArray();

        var clock = Stopwatch.StartNew();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = t * perThread; i < (t + 1) * perThread; i++) a.Send(target, frames[i]);
        });
        await received.WaitForFramesAsync(total, TimeSpan.FromSeconds(30));
        clock.Stop();

        Assert.Equal(total, received.FrameCount);
        Assert.Equal((long)total * (total + 1) / 2, received.Checksum);
        Assert.All(frames, f => Assert.Equal(0, f.Failures));
        var perSecond = total / clock.Elapsed.TotalSeconds;
        output.WriteLine($"{total} frames of 32 B in {clock.Elapsed.TotalMilliseconds:0} ms: {perSecond:N0} frames/s, {perSecond * 36 / 1e6:0.0} MB/s on the wire");
    }

    [Fact]
    public async Task A_frame_over_MaxFrameSize_fails_alone_and_the_next_frame_still_arrives()
    {
        var received = new RecordingHandler();
        await using var b = await TransportTest.StartAsync(received, o => o.MaxFrameSize = 1024);
        await using var a = await TransportTest.StartAsync(new RecordingHandler(), o => o.MaxFrameSize = 1024);

        var before = TestFrame.OfInt64(1);
        var tooLarge = new TestFrame(new byte[200_000]);  // spans several batch segments before it is cut back out
        var exactlyMax = new TestFrame(new byte[1024]);
        var after = TestFrame.OfInt64(2);
        a.Send(b.LocalAddress, before);
        a.Send(b.LocalAddress, tooLarge);
        a.Send(b.LocalAddress, exactlyMax);
        a.Send(b.LocalAddress, after);

        var error = Assert.IsType<MessageTooLargeException>(await TransportTest.FailureOf(tooLarge.Failed));
        Assert.Contains("200000 bytes", error.Message);
        Assert.Contains("1024 bytes", error.Message);
        Assert.Contains("MaxFrameSize", error.Message);
        await received.WaitForFramesAsync(3);
        Assert.Equal([8, 1024, 8], received.Frames.Select(f => f.Payload.Length));
        Assert.Equal(2L, BitConverter.ToInt64(received.Frames.Last().Payload));
        Assert.Equal(0, before.Failures + exactlyMax.Failures + after.Failures);
        Assert.Empty(received.Lost);
    }

    [Fact]
    public async Task A_frame_whose_serializer_throws_fails_with_that_error_and_the_stream_stays_intact()
    {
        var received = new RecordingHandler();
        await using var b = await TransportTest.StartAsync(received);
        await using var a = await TransportTest.StartAsync(new RecordingHandler());

        var broken = new ThrowingFrame();
        a.Send(b.LocalAddress, TestFrame.OfInt64(1));
        a.Send(b.LocalAddress, broken);
        a.Send(b.LocalAddress, TestFrame.OfInt64(2));

        var error = await TransportTest.FailureOf(broken.Failed);
        Assert.Equal("serializer broke", error.Message);
        await received.WaitForFramesAsync(2);
        Assert.Equal([1L, 2L], received.Frames.Select(f => BitConverter.ToInt64(f.Payload)));
    }

    [Fact]
    public async Task A_length_prefix_over_MaxFrameSize_closes_that_connection_with_an_error_naming_the_peer()
    {
        var received = new RecordingHandler();
        var log = new ListLogger<TcpSiloTransport>();
        await using var b = await TransportTest.StartAsync(received, o => o.MaxFrameSize = 1024, logger: log);
        var impostor = new SiloAddress("127.0.0.1", 1, 7);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(b.LocalAddress.ToEndPoint());
        var hello = new System.Buffers.ArrayBufferWriter<byte>();
        FrameCodec.WriteHello(hello, impostor, b.LocalAddress);
        await socket.SendAsync(hello.WrittenMemory, SocketFlags.None);
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(prefix, 1025);
        await socket.SendAsync(prefix, SocketFlags.None);

        var reason = await received.WaitForLostAsync(impostor);
        Assert.Contains("1025 bytes", reason.Message);
        var logged = Assert.Single(log.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains(impostor.ToString(), logged.Message);
        Assert.Contains("1025", logged.Message);
        Assert.Equal(0, await socket.ReceiveAsync(new byte[16], SocketFlags.None));  // closed
        Assert.Empty(received.Frames);
    }

    [Fact]
    public async Task A_connection_that_does_not_start_with_a_hello_is_refused()
    {
        var received = new RecordingHandler();
        var log = new ListLogger<TcpSiloTransport>();
        await using var b = await TransportTest.StartAsync(received, logger: log);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(b.LocalAddress.ToEndPoint());
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);

        var reply = new byte[1024];
        var count = 0;
        int n;
        while ((n = await socket.ReceiveAsync(reply.AsMemory(count), SocketFlags.None)) > 0) count += n;
        Assert.True(FrameCodec.TryParseReject(reply.AsSpan(0, count), out var refusal));
        Assert.Contains("not a Platform silo hello", refusal);
        Assert.Contains(log.Entries, e => e.Id.Id == 1508);
        Assert.Empty(received.Frames);
        Assert.Empty(received.Lost);
    }

    [Fact]
    public async Task Disposing_a_peer_reports_the_lost_connection_within_a_second_and_later_sends_fail()
    {
        var sender = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(sender);
        var received = new RecordingHandler();
        var b = await TransportTest.StartAsync(received);
        var bAddress = b.LocalAddress;
        var first = TestFrame.OfInt64(1);
        a.Send(bAddress, first);
        await received.WaitForFramesAsync(1);

        var clock = Stopwatch.StartNew();
        await b.DisposeAsync();
        var reason = await sender.WaitForLostAsync(bAddress, OneSecond);
        output.WriteLine($"connection loss reported {clock.Elapsed.TotalMilliseconds:0} ms after the peer closed: {reason.Message}");
        Assert.IsType<SiloUnavailableException>(reason);
        Assert.Contains(bAddress.ToString(), reason.Message);
        Assert.Single(sender.Lost, l => l.Peer == bAddress);

        var later = TestFrame.OfInt64(2);
        a.Send(bAddress, later);
        var error = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(later.Failed, OneSecond));
        Assert.Contains($"silo {bAddress} at {bAddress.Endpoint} is unreachable", error.Message);
        Assert.Equal(0, first.Failures);
    }

    [Fact]
    public async Task A_peer_that_closes_both_connections_is_lost_only_after_what_it_sent_on_its_own_was_delivered()
    {
        // A silo's calls go out on its connection to a peer; the peer answers on its own connection back. A peer
        // that leaves closes both, and the answers it sent last may not be read yet when the FIN arrives on the other.
        var aLog = new ListLogger<TcpSiloTransport>();
        var aHandler = new HeldHandler();
        await using var a = await TransportTest.StartAsync(aHandler, logger: aLog);
        a.AnswersGrace = TimeSpan.FromSeconds(30);  // the bound, not the wait for the other connection, is not under test
        var bReceived = new RecordingHandler();
        var b = await TransportTest.StartAsync(bReceived);
        var bAddress = b.LocalAddress;
        a.Send(bAddress, TestFrame.OfInt64(1));
        await bReceived.WaitForFramesAsync(1);
        for (var i = 0; i < 3; i++) b.Send(a.LocalAddress, TestFrame.OfInt64(10 + i));
        await aHandler.Entered.WaitAsync(TimeSpan.FromSeconds(10));  // a's reader holds the first answer

        await b.DisposeAsync();
        try
        {
            // a's own connection to b has seen the FIN and is gone ...
            await TransportTest.Eventually(() => aLog.Entries.Any(e => e.Id.Id == 1504), "a's log line saying its connection to b was lost");
            // ... but b is not reported lost while its answers wait on the other connection.
            Assert.Empty(aHandler.Events);
        }
        finally
        {
            aHandler.Release();
        }
        await TransportTest.Eventually(() => aHandler.Events.Any(e => e.StartsWith("lost")), "b reported lost");
        Assert.Equal(["frame 10", "frame 11", "frame 12"], aHandler.Events.TakeWhile(e => e.StartsWith("frame")));
        // Both connections ended, and b is reported lost once, not once per connection.
        await a.DeferredLoss.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(aHandler.Events, e => e.StartsWith("lost"));
    }

    [Fact]
    public async Task Frames_queued_and_in_flight_when_the_connection_breaks_fail_with_SiloUnavailableException()
    {
        var sender = new RecordingHandler();
        var received = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(sender);
        var b = await TransportTest.StartAsync(received);
        var bAddress = b.LocalAddress;
        a.Send(bAddress, TestFrame.OfInt64(0));
        await received.WaitForFramesAsync(1);

        // A writer is held inside a frame's serializer (on the sending thread, which it holds) while more frames queue behind it.
        using var gate = new ManualResetEventSlim();
        var held = new TestFrame(new byte[8], gate);
        _ = Task.Run(() => a.Send(bAddress, held));
        await held.Writing.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = Enumerable.Range(1, 50).Select(i => TestFrame.OfInt64(i)).ToArray();
        foreach (var frame in queued) a.Send(bAddress, frame);

        await b.DisposeAsync();
        await sender.WaitForLostAsync(bAddress, OneSecond);
        gate.Set();

        foreach (var frame in queued.Prepend(held))
            Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed, OneSecond));
        Assert.All(queued.Prepend(held), f => Assert.Equal(1, f.Failures));
        Assert.Single(sender.Lost, l => l.Peer == bAddress);
    }

    [Fact]
    public async Task Disconnect_fails_pending_sends_at_once_and_the_next_send_reconnects()
    {
        var sender = new RecordingHandler();
        var received = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(sender);
        await using var b = await TransportTest.StartAsync(received);
        a.Send(b.LocalAddress, TestFrame.OfInt64(0));
        await received.WaitForFramesAsync(1);

        using var gate = new ManualResetEventSlim();
        var held = new TestFrame(new byte[8], gate);
        _ = Task.Run(() => a.Send(b.LocalAddress, held));  // the writer is held on that thread
        await held.Writing.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = Enumerable.Range(1, 20).Select(i => TestFrame.OfInt64(i)).ToArray();
        foreach (var frame in queued) a.Send(b.LocalAddress, frame);

        a.Disconnect(b.LocalAddress);
        // Queued frames fail without waiting for the writer that is stuck in a serializer.
        foreach (var frame in queued)
        {
            var error = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed, OneSecond));
            Assert.Contains("declared dead", error.Message);
        }
        gate.Set();
        Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(held.Failed, OneSecond));
        await sender.WaitForLostAsync(b.LocalAddress, OneSecond);

        a.Send(b.LocalAddress, TestFrame.OfInt64(99));
        await received.WaitForFramesAsync(2);
        Assert.Equal(99L, BitConverter.ToInt64(received.Frames.Last().Payload));
    }

    [Fact]
    public async Task A_peer_that_closes_its_connection_to_us_is_reported_lost_on_the_accepting_side()
    {
        var received = new RecordingHandler();
        await using var b = await TransportTest.StartAsync(received);
        var a = await TransportTest.StartAsync(new RecordingHandler());
        var aAddress = a.LocalAddress;
        a.Send(b.LocalAddress, TestFrame.OfInt64(1));
        await received.WaitForFramesAsync(1);

        await a.DisposeAsync();
        var reason = await received.WaitForLostAsync(aAddress, OneSecond);
        Assert.Contains(aAddress.ToString(), reason.Message);
        Assert.Single(received.Lost);
    }

    [Fact]
    public async Task Sending_to_a_port_nobody_listens_on_fails_fast_with_SiloUnavailableException()
    {
        await using var a = await TransportTest.StartAsync(new RecordingHandler());
        // Bound for the whole test and never listening: no other test can take the port meanwhile, and a connect is refused.
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var nobody = new SiloAddress("127.0.0.1", ((IPEndPoint)bound.LocalEndPoint!).Port, 1);

        var clock = Stopwatch.StartNew();
        var frames = Enumerable.Range(0, 10).Select(i => TestFrame.OfInt64(i)).ToArray();
        foreach (var frame in frames) a.Send(nobody, frame);
        foreach (var frame in frames)
        {
            var error = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed, OneSecond));
            Assert.Contains($"silo {nobody} at {nobody.Endpoint} is unreachable", error.Message);
        }
        output.WriteLine($"failed after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(clock.Elapsed < OneSecond);
    }

    [Fact]
    public async Task Sending_to_a_silo_that_never_accepts_fails_after_the_connect_timeout()
    {
        // A listener whose backlog is full drops further SYNs: the dial neither succeeds nor is refused.
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        stuck.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        stuck.Listen(1);
        var endpoint = (IPEndPoint)stuck.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                await filler.ConnectAsync(endpoint);
            }
            await using var a = await TransportTest.StartAsync(new RecordingHandler(), o => o.ConnectTimeout = TimeSpan.FromMilliseconds(300));
            var silent = new SiloAddress("127.0.0.1", endpoint.Port, 1);

            var clock = Stopwatch.StartNew();
            var frame = TestFrame.OfInt64(1);
            a.Send(silent, frame);
            var error = Assert.IsType<SiloUnavailableException>(await TransportTest.FailureOf(frame.Failed, TimeSpan.FromSeconds(3)));
            output.WriteLine($"{clock.Elapsed.TotalMilliseconds:0} ms: {error.Message}");
            Assert.Contains($"silo {silent} at {silent.Endpoint} is unreachable: no connection within 300 ms (TransportOptions.ConnectTimeout)", error.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
        }
        finally
        {
            foreach (var filler in fillers) filler.Dispose();
        }
    }

    [Fact]
    public async Task After_a_peer_restarts_on_the_same_port_the_new_generation_is_reached_and_the_old_one_refused()
    {
        var sender = new RecordingHandler();
        await using var a = await TransportTest.StartAsync(sender);
        var firstFrames = new RecordingHandler();
        var b1 = await TransportTest.StartAsync(firstFrames);
        var old = b1.LocalAddress;
        a.Send(old, TestFrame.OfInt64(1));
        await firstFrames.WaitForFramesAsync(1);
        await b1.DisposeAsync();
        await sender.WaitForLostAsync(old, OneSecond);

        var secondFrames = new RecordingHandler();
        await using var b2 = await TransportTest.StartAsync(secondFrames, o => o.Port = old.Port);
        Assert.Equal(old.Port, b2.LocalAddress.Port);
        Assert.NotEqual(old.Generation, b2.LocalAddress.Generation);

        a.Send(b2.LocalAddress, TestFrame.OfInt64(2));
        await secondFrames.WaitForFramesAsync(1);
        Assert.Equal(a.LocalAddress, secondFrames.Frames.Single().From);
        Assert.Equal(2L, BitConverter.ToInt64(secondFrames.Frames.Single().Payload));

        // A frame still addressed to the previous incarnation must not reach the new one.
        while (sender.Lost.TryDequeue(out _)) { }
        a.Send(old, TestFrame.OfInt64(3));
        var refusal = await sender.WaitForLostAsync(old, OneSecond);
        Assert.Contains("refused the connection", refusal.Message);
        Assert.Contains("is gone", refusal.Message);
        // No wait needed: the new incarnation refuses at the hello and closes that connection without reading a frame,
        // and the refusal the sender just read was written after that decision.
        Assert.Single(secondFrames.Frames);
    }

    [Fact]
    public async Task A_port_already_taken_fails_start_naming_the_address_and_the_setting()
    {
        await using var a = await TransportTest.StartAsync(new RecordingHandler());
        var b = new TcpSiloTransport(new TransportOptions { Port = a.LocalAddress.Port }, 1, new ListLogger<TcpSiloTransport>());
        await using (b)
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => b.StartAsync(new RecordingHandler()));
            output.WriteLine(error.Message);
            Assert.Contains($"127.0.0.1:{a.LocalAddress.Port}", error.Message);
            Assert.Contains("Platform:Cluster:SiloPort", error.Message);
            Assert.Contains("TransportOptions.Port", error.Message);
        }
    }

    [Fact]
    public async Task A_listen_address_that_is_not_an_IP_fails_start_with_the_setting_named()
    {
        await using var t = new TcpSiloTransport(new TransportOptions { ListenAddress = "silo-one", Port = 0 }, 1, new ListLogger<TcpSiloTransport>());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => t.StartAsync(new RecordingHandler()));
        Assert.Contains("TransportOptions.ListenAddress 'silo-one'", error.Message);
    }

    [Fact]
    public async Task Dispose_fails_queued_frames_and_later_sends()
    {
        await using var b = await TransportTest.StartAsync(new RecordingHandler());
        var a = await TransportTest.StartAsync(new RecordingHandler());
        using var gate = new ManualResetEventSlim();
        var held = new TestFrame(new byte[8], gate);
        a.Send(b.LocalAddress, held);
        var queued = Enumerable.Range(0, 10).Select(i => TestFrame.OfInt64(i)).ToArray();
        foreach (var frame in queued) a.Send(b.LocalAddress, frame);

        var disposing = a.DisposeAsync().AsTask();
        foreach (var frame in queued) Assert.IsType<ObjectDisposedException>(await TransportTest.FailureOf(frame.Failed, OneSecond));
        gate.Set();
        await disposing;
        Assert.Equal(1, held.Failures);

        var late = TestFrame.OfInt64(1);
        a.Send(b.LocalAddress, late);
        Assert.IsType<ObjectDisposedException>(await late.Failed);
    }
}
