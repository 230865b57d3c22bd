using System.Net.Sockets;

namespace Platform.Silo.Hosting;

/// <summary>What a non-blocking send of a whole buffer came to.</summary>
internal enum SocketSendResult
{
    /// <summary>The socket took every byte.</summary>
    Sent,

    /// <summary>The socket's buffer is full: the bytes from the returned offset on are still to send.</summary>
    Partial,

    /// <summary>The peer is gone (reset, closed, or the socket disposed): nothing more can be sent.</summary>
    Gone,
}

/// <summary>
/// One <c>send</c> on a socket in non-blocking mode, as both paths that write straight to a client's socket take it
/// (the etcd fast path, the agent hub): a send that would block hands back what is left instead of waiting.
/// </summary>
internal static class SocketSend
{
    public static SocketSendResult Try(Socket socket, ReadOnlySpan<byte> bytes, out int sent, out SocketError error)
    {
        try
        {
            sent = socket.Send(bytes, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            sent = 0;
            error = SocketError.OperationAborted;
            return SocketSendResult.Gone;
        }
        if (error == SocketError.Success && sent == bytes.Length) return SocketSendResult.Sent;
        if (error is not (SocketError.Success or SocketError.WouldBlock)) return SocketSendResult.Gone;
        sent = Math.Max(sent, 0);
        return SocketSendResult.Partial;
    }
}
