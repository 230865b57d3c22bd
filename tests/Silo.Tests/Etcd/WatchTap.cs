using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// A loopback TCP relay put between a watching client and a keys server, telling the test when a watch is registered.
/// etcd answers <c>wait=true</c> with its headers as soon as the watcher exists (the contract requires the same of
/// Platform), so the moment a watch request's response head passes the relay, a write is sure to be seen — a
/// signal that needs no sleeping and no server-specific probe. Only a connection's first request is looked at: the
/// clients run through here (etcdctl with <c>--no-sync</c>, curl) open their watch as their first request.
/// </summary>
public sealed class WatchTap : IAsyncDisposable
{
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accepting;
    private readonly ChangeSignal _signal = new();
    private int _registered;

    public WatchTap(Uri upstream)
    {
        _upstream = upstream;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect instead of the server.</summary>
    public Uri Url { get; }

    /// <summary>Connections whose first request was a watch and whose response head came back.</summary>
    public int Registered => Volatile.Read(ref _registered);

    /// <summary>Waits until <paramref name="count"/> watches were answered with headers; false on timeout or once <paramref name="giveUp"/> completes.</summary>
    public Task<bool> WaitForWatchesAsync(int count, TimeSpan timeout, Task? giveUp = null) => _signal.WaitUntilAsync(() => Registered >= count, timeout, giveUp);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = RelayAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(server);
        }
        try
        {
            await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
            var isWatch = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var up = CopyAsync(client.GetStream(), server.GetStream(), head => isWatch.TrySetResult(IsWatchRequest(head)));
            // A server answers only after the request head went up, so isWatch is known by then.
            var down = CopyAsync(server.GetStream(), client.GetStream(), _ =>
            {
                if (isWatch.Task.IsCompletedSuccessfully && isWatch.Task.Result) MarkRegistered();
            });
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private void MarkRegistered()
    {
        Interlocked.Increment(ref _registered);
        _signal.Notify();
    }

    private static bool IsWatchRequest(string head)
    {
        var requestLine = head.Split("\r\n", 2)[0];
        return requestLine.StartsWith("GET ", StringComparison.Ordinal) && requestLine.Contains("wait=true", StringComparison.Ordinal);
    }

    /// <summary>Copies until either side closes; calls <paramref name="onFirstHead"/> once the first "\r\n\r\n" arrived, before passing it on.</summary>
    private async Task CopyAsync(NetworkStream from, NetworkStream to, Action<string> onFirstHead)
    {
        var buffer = new byte[16384];
        var head = new List<byte>();
        var headSeen = false;
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                // Look before passing the bytes on: once a request is forwarded its answer may come back at once,
                // and whether it was a watch must be known by then.
                if (!headSeen)
                {
                    head.AddRange(buffer.AsSpan(0, read));
                    var end = head.ToArray().AsSpan().IndexOf(HeadEnd);
                    if (end >= 0)
                    {
                        headSeen = true;
                        onFirstHead(Encoding.Latin1.GetString(head.ToArray(), 0, end));
                    }
                }
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        finally
        {
            // Propagate the close so the other side's reader ends too.
            try
            {
                to.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        lock (_connections)
        {
            foreach (var c in _connections) c.Dispose();
        }
        _stop.Dispose();
    }
}
