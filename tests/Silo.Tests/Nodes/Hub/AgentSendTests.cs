using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Platform.Silo.Agents;

namespace Platform.Silo.Tests.Nodes.Hub;

/// <summary>
/// An agent connection's sends over real loopback sockets: written straight to the socket while it takes them, and
/// when a slow reader fills it, the rest of the frame and everything after it follow in order.
/// </summary>
public sealed class AgentSendTests
{
    [Fact]
    public async Task Frames_to_a_reader_that_does_not_read_arrive_whole_and_in_order_once_it_reads()
    {
        await using var pair = await SendingPair.OpenAsync(sendQueueLimit: 10_000);
        var (client, stream, connection) = (pair.Client, pair.Stream, pair.Connection);

        // 2 MB against about 16 KB of socket buffers: most frames wait while the reader does not read.
        const int frames = 2_000;
        var padding = new string('x', 1_000);
        for (var i = 0; i < frames; i++) connection.Send(Encoding.UTF8.GetBytes($"{i:D6} {padding}"));
        Assert.True(stream.PartialWrites > 0, "the socket never filled: the test did not reach the slow path");
        var sent = connection.CompleteSends();
        Assert.False(sent.IsCompleted, "every frame was sent before the reader read anything");

        using var agent = WebSocket.CreateFromStream(new NetworkStream(client, ownsSocket: false), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var buffer = new byte[4096];
        for (var i = 0; i < frames; i++)
        {
            var length = 0;
            while (true)
            {
                var result = await agent.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(15));
                length += result.Count;
                if (result.EndOfMessage) break;
            }
            Assert.Equal($"{i:D6} {padding}", Encoding.UTF8.GetString(buffer, 0, length));
        }
        await sent.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.False(connection.Ended);
    }

    [Fact]
    public async Task Frames_sent_while_one_waits_for_the_socket_queue_behind_it_and_a_full_queue_ends_the_connection_and_its_sends()
    {
        await using var pair = await SendingPair.OpenAsync(sendQueueLimit: 10);
        var (stream, connection) = (pair.Stream, pair.Connection);

        var frame = new byte[64 * 1024];
        while (stream.PartialWrites == 0) connection.Send(frame);
        for (var i = 0; i < 10; i++) connection.Send(frame);
        Assert.False(connection.Ended);

        connection.Send(frame);

        Assert.True(connection.Ended);
        Assert.Equal("its send queue reached 10 frames (a slow reader)", connection.EndReason);
        // The frame stuck in the full socket ends with the connection: its sends complete while the reader still does not read.
        await connection.CompleteSends().WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Writes_go_through_the_inner_stream_until_direct_writes_are_turned_on_and_always_without_a_socket()
    {
        var (server, client) = await PairAsync(buffer: 65536);
        using var _ = server;
        using var __ = client;
        var inner = new MemoryStream();
        var stream = new AgentStream(inner, server);

        await stream.WriteAsync("before"u8.ToArray());
        stream.WriteDirect();
        await stream.WriteAsync("after"u8.ToArray());

        Assert.Equal("before", Encoding.ASCII.GetString(inner.ToArray()));
        var received = new byte[16];
        Assert.Equal("after", Encoding.ASCII.GetString(received, 0, await client.ReceiveAsync(received)));

        var tls = new MemoryStream();
        var noSocket = new AgentStream(tls, socket: null);
        noSocket.WriteDirect();
        await noSocket.WriteAsync("sealed"u8.ToArray());
        Assert.Equal("sealed", Encoding.ASCII.GetString(tls.ToArray()));
    }

    [Fact]
    public async Task A_connection_is_quiet_until_a_frame_leaves_and_frames_held_back_during_catch_up_have_not_left()
    {
        await using var pair = await SendingPair.OpenAsync(sendQueueLimit: 10, catchUp: true);
        var connection = pair.Connection;
        var now = Environment.TickCount64;
        Assert.True(connection.QuietFor(now, 500));

        connection.Send("held"u8.ToArray());
        Assert.True(connection.QuietFor(Environment.TickCount64, 500), "a frame held back during catch-up counted as sent");

        connection.SendNow(new OutgoingFrame("welcome"u8.ToArray()));
        var sent = Environment.TickCount64;
        Assert.False(connection.QuietFor(sent, 500));
        Assert.True(connection.QuietFor(sent + 500, 500));

        connection.ReleaseHeld(0);
        Assert.False(connection.QuietFor(Environment.TickCount64, 500), "the released frame did not count as sent");
    }

    /// <summary>An agent connection writing straight to one end of a loopback pair; the other end is the agent's, unread until the test reads it.</summary>
    private sealed record SendingPair(Socket Server, Socket Client, AgentStream Stream, WebSocket Socket, AgentConnection Connection) : IAsyncDisposable
    {
        public static async Task<SendingPair> OpenAsync(int sendQueueLimit, bool catchUp = false)
        {
            var (server, client) = await PairAsync(buffer: 4096);
            var stream = new AgentStream(new NetworkStream(server, ownsSocket: false), server);
            stream.WriteDirect();
            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            var connection = new AgentConnection(socket, "session", sendQueueLimit, CancellationToken.None);
            if (!catchUp) connection.ReleaseHeld(0);
            return new SendingPair(server, client, stream, socket, connection);
        }

        public ValueTask DisposeAsync()
        {
            Socket.Dispose();
            Server.Dispose();
            Client.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A connected loopback pair with small buffers on both ends: the silo's send side and the agent's receive side.</summary>
    internal static async Task<(Socket Server, Socket Client)> PairAsync(int buffer)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = buffer };
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        server.SendBufferSize = buffer;
        return (server, client);
    }
}
