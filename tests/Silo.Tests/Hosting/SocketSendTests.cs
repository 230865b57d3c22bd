using System.Net.Sockets;
using Platform.Silo.Hosting;
using Platform.Silo.Tests.Nodes.Hub;

namespace Platform.Silo.Tests.Hosting;

/// <summary>One non-blocking send on a real loopback socket: taken whole, taken in part by a full socket, or the peer gone.</summary>
public sealed class SocketSendTests
{
    [Fact]
    public async Task A_send_is_whole_then_partial_once_the_socket_is_full_and_gone_once_the_peer_reset()
    {
        var (server, client) = await AgentSendTests.PairAsync(buffer: 4096);
        using var owned = server;
        using var peer = client;
        server.Blocking = false;

        Assert.Equal(SocketSendResult.Sent, SocketSend.Try(server, "hello"u8, out var sent, out _));
        Assert.Equal(5, sent);

        // The reader does not read: sends fill both ends' buffers, then one is taken in part (or not at all).
        var chunk = new byte[64 * 1024];
        SocketSendResult result;
        var total = 5;
        while ((result = SocketSend.Try(server, chunk, out sent, out _)) == SocketSendResult.Sent) total += sent;
        Assert.Equal(SocketSendResult.Partial, result);
        Assert.InRange(sent, 0, chunk.Length - 1);
        Assert.True(total + sent < 10 * 1024 * 1024, $"{total} bytes taken by a socket nobody reads");

        // The peer resets: the send is Gone, not Partial.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((result = SocketSend.Try(server, chunk, out _, out _)) != SocketSendResult.Gone)
        {
            Assert.True(DateTime.UtcNow < deadline, $"still {result} 10 s after the peer reset");
            await Task.Delay(10);
        }

        server.Dispose();
        Assert.Equal(SocketSendResult.Gone, SocketSend.Try(server, "x"u8, out sent, out _));
        Assert.Equal(0, sent);
    }
}
