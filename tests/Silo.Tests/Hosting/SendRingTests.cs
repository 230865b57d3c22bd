using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Silo.Hosting;
using Platform.Silo.Tests.Nodes.Hub;

namespace Platform.Silo.Tests.Hosting;

/// <summary>
/// A wake thread's send ring (io_uring) on real loopback sockets: a chunk's sends go to the kernel together at the
/// flush, each answered as a lone <c>send</c> would be (whole, in part, the peer gone), and a socket disposed while its
/// send waits keeps its descriptor until then. On Linux the kernel must offer io_uring, unless it was turned off
/// (<c>kernel.io_uring_disabled</c>); elsewhere there is no ring and the tests end at once.
/// </summary>
public sealed class SendRingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A ring, or null where none is to be had (not Linux, or io_uring turned off for the machine).</summary>
    private static SendRing? Ring()
    {
        var ring = SendRing.TryCreate(NullLogger.Instance);
        if (ring is null && OperatingSystem.IsLinux())
        {
            var disabled = File.Exists("/proc/sys/kernel/io_uring_disabled") ? File.ReadAllText("/proc/sys/kernel/io_uring_disabled").Trim() : "0";
            Assert.True(disabled != "0", "no send ring on a Linux kernel whose io_uring is on (kernel.io_uring_disabled = 0)");
        }
        return ring;
    }

    private sealed class Answer : IRingSendDone
    {
        public SocketSendResult? Result;
        public ReadOnlyMemory<byte> Rest;
        public int Calls;

        public void Sent(SocketSendResult result, ReadOnlyMemory<byte> rest)
        {
            Result = result;
            Rest = rest;
            Calls++;
        }
    }

    [Fact]
    public async Task A_chunk_of_sends_leaves_at_the_flush_each_to_its_own_socket()
    {
        using var ring = Ring();
        if (ring is null) return;
        var pairs = new List<(Socket Server, Socket Client)>();
        try
        {
            for (var i = 0; i < SendRing.Entries + 1; i++) pairs.Add(await AgentSendTests.PairAsync(buffer: 65536));
            var answers = new Answer[SendRing.Entries];
            // Even sends take their bytes from one shared array (as a fan-out's watchers share an event's), odd ones
            // each from its own.
            var shared = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, SendRing.Entries).Select(i => $"send {i}")));
            var at = 0;
            for (var i = 0; i < SendRing.Entries; i++)
            {
                answers[i] = new Answer();
                var text = $"send {i}";
                var bytes = i % 2 == 0 ? shared.AsMemory(at, text.Length) : Encoding.ASCII.GetBytes(text);
                at += text.Length;
                Assert.True(ring.TryQueue(pairs[i].Server.SafeHandle, bytes, answers[i]));
            }
            // The ring is full: one more is the caller's to send.
            Assert.False(ring.TryQueue(pairs[^1].Server.SafeHandle, "x"u8.ToArray(), new Answer()));
            // Nothing has left before the flush.
            Assert.All(pairs, p => Assert.Equal(0, p.Client.Available));
            Assert.All(answers, a => Assert.Equal(0, a.Calls));

            ring.Flush();

            Assert.All(answers, a => Assert.Equal((SocketSendResult?)SocketSendResult.Sent, a.Result));
            Assert.All(answers, a => Assert.True(a.Rest.IsEmpty));
            Assert.All(answers, a => Assert.Equal(1, a.Calls));
            for (var i = 0; i < SendRing.Entries; i++)
                Assert.Equal($"send {i}", await ReceiveAsync(pairs[i].Client, $"send {i}".Length));
            Assert.Equal(0, pairs[^1].Client.Available);

            // Emptied by the flush: the ring takes a whole chunk again, and a flush with nothing queued does nothing.
            var again = new Answer();
            Assert.True(ring.TryQueue(pairs[^1].Server.SafeHandle, "again"u8.ToArray(), again));
            ring.Flush();
            ring.Flush();
            Assert.Equal(1, again.Calls);
            Assert.Equal("again", await ReceiveAsync(pairs[^1].Client, 5));

            // Disposed, it takes nothing more (its caller sends by itself).
            ring.Dispose();
            Assert.False(ring.TryQueue(pairs[^1].Server.SafeHandle, "late"u8.ToArray(), new Answer()));
        }
        finally
        {
            foreach (var (server, client) in pairs)
            {
                server.Dispose();
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_full_socket_is_answered_with_what_is_left_and_a_reset_peer_as_gone()
    {
        using var ring = Ring();
        if (ring is null) return;
        var (server, client) = await AgentSendTests.PairAsync(buffer: 4096);
        using var owned = server;
        using var peer = client;
        server.Blocking = false;
        // The reader does not read: lone sends fill both ends' buffers.
        var chunk = new byte[64 * 1024];
        while (SocketSend.Try(server, chunk, out _, out _) == SocketSendResult.Sent)
        {
        }

        var bytes = Encoding.ASCII.GetBytes(new string('b', 300));
        var full = new Answer();
        Assert.True(ring.TryQueue(server.SafeHandle, bytes, full));
        ring.Flush();
        Assert.Equal(SocketSendResult.Partial, full.Result);
        Assert.Equal(bytes.Length, full.Rest.Length);
        Assert.True(full.Rest.Span.SequenceEqual(bytes));

        // The peer resets: the ring's send is Gone, not Partial.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var gone = new Answer();
            Assert.True(ring.TryQueue(server.SafeHandle, bytes, gone));
            ring.Flush();
            if (gone.Result == SocketSendResult.Gone)
            {
                Assert.True(gone.Rest.IsEmpty);
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {gone.Result} {Wait} after the peer reset");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_socket_disposed_while_its_send_waits_keeps_its_descriptor_until_the_flush()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var ring = Ring();
        if (ring is null) return;
        var (server, client) = await AgentSendTests.PairAsync(buffer: 65536);
        using var peer = client;
        var descriptor = $"/proc/self/fd/{server.Handle}";
        var socketBefore = new FileInfo(descriptor).LinkTarget;
        Assert.StartsWith("socket:[", socketBefore);
        var answer = new Answer();
        Assert.True(ring.TryQueue(server.SafeHandle, "before the close"u8.ToArray(), answer));

        // Dispose, on another thread, shuts the socket down and then waits for the queued send's hold on the handle.
        var disposing = Task.Run(server.Dispose);
        var end = new byte[64];
        try
        {
            Assert.Equal(0, await client.ReceiveAsync(end, new CancellationTokenSource(Wait).Token));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        // The peer saw the end, yet the descriptor is still the same socket: not closed, so not reusable.
        Assert.Equal(socketBefore, new FileInfo(descriptor).LinkTarget);
        Assert.False(disposing.IsCompleted);

        ring.Flush();

        await disposing.WaitAsync(Wait);
        Assert.Equal(1, answer.Calls);
        // Shut down before the flush: the send finds the socket gone (nothing reached the peer before its end).
        Assert.Equal(SocketSendResult.Gone, answer.Result);
        Assert.NotEqual(socketBefore, File.Exists(descriptor) || Directory.Exists(descriptor) ? new FileInfo(descriptor).LinkTarget : null);
    }

    [Theory]
    [InlineData(5, "Sent", 0)]
    [InlineData(2, "Partial", 3)]
    [InlineData(0, "Partial", 5)]
    [InlineData(-11, "Partial", 5)] // EAGAIN: the socket took nothing
    [InlineData(-32, "Gone", 0)] // EPIPE
    [InlineData(-104, "Gone", 0)] // ECONNRESET
    [InlineData(-9, "Gone", 0)] // EBADF
    public void A_kernel_answer_is_read_as_a_lone_send_is(int answer, string result, int left)
    {
        var bytes = "hello"u8.ToArray();
        var outcome = SendRing.Outcome(answer, bytes);
        Assert.Equal(result, outcome.Result.ToString());
        Assert.Equal(left, outcome.Left.Length);
        Assert.True(outcome.Left.Span.SequenceEqual(bytes.AsSpan(bytes.Length - left)));
    }

    private static async Task<string> ReceiveAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var read = 0;
        using var timeout = new CancellationTokenSource(Wait);
        while (read < length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0) break;
            read += n;
        }
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
