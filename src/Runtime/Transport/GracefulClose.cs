using System.Net.Sockets;

namespace Platform.Runtime.Transport;

/// <summary>Closing a socket so the peer sees an orderly end (FIN after what was sent), not a reset.</summary>
internal static class GracefulClose
{
    /// <summary>
    /// Shuts both directions down before disposing: that wakes a pending receive with 0 bytes and
    /// lets the kernel deliver what was already written; a bare dispose with a receive pending
    /// aborts the connection, and the peer reads "connection reset" instead of a close.
    /// </summary>
    public static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Not connected or already closed: disposing is all that is left.
        }
        socket.Dispose();
    }
}
