using System.Net;
using System.Net.Sockets;

namespace Platform.Runtime.Tests.Transport;

/// <summary>A TCP relay on loopback to one target port that keeps a copy of every byte the dialer sent through it.</summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly MemoryStream _sent = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;

    public RecordingProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>What dialers sent, so far.</summary>
    public byte[] Sent
    {
        get
        {
            lock (_sent) return _sent.ToArray();
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptSocketAsync(_stop.Token);
                var outbound = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await outbound.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                lock (_sockets) _sockets.AddRange([inbound, outbound]);
                _ = PumpAsync(inbound, outbound, record: true);
                _ = PumpAsync(outbound, inbound, record: false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                if (record)
                {
                    lock (_sent) _sent.Write(buffer, 0, n);
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side went away; the other is closed on dispose.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        lock (_sockets)
        {
            foreach (var s in _sockets) s.Dispose();
        }
        _stop.Dispose();
    }
}
