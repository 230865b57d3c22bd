using System.Net;
using System.Text;

namespace Platform.Keys.Bench;

/// <summary>A server under test: its name in the report, where it listens, and its process (for CPU and memory).</summary>
public sealed class Target
{
    public Target(string name, Uri url, int? pid)
    {
        if (url.Scheme != "http") throw new BenchFailure($"{name}: URL '{url}' is not http:// (the driver speaks plain HTTP/1.1)");
        if (!IPAddress.TryParse(url.Host, out var address))
            throw new BenchFailure($"{name}: URL '{url}' must name an IP address such as 127.0.0.1, not a host name");
        Name = name;
        Url = url;
        Pid = pid;
        EndPoint = new IPEndPoint(address, url.Port);
        Host = Encoding.ASCII.GetBytes(url.Authority);
    }

    public string Name { get; }
    public Uri Url { get; }
    public int? Pid { get; }
    public IPEndPoint EndPoint { get; }

    /// <summary>The Host header value, as bytes for prebuilt requests.</summary>
    public byte[] Host { get; }

    public Task<HttpConnection> ConnectAsync(CancellationToken ct = default, int bufferSize = 4096) => HttpConnection.OpenAsync(EndPoint, bufferSize, ct);

    /// <summary>Fails if the process is gone: a server that died mid-run explains every later error.</summary>
    public void EnsureAlive()
    {
        if (Pid is { } pid && !ProcStats.IsAlive(pid)) throw new BenchFailure($"{Name}: the server process {pid} has exited (see its log)");
    }

    /// <summary>Polls until the server lists the root of /v2/keys/ (HTTP 200); any other answer fails at once, or fails after <paramref name="timeout"/>.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var request = Requests.Get(Host, "/v2/keys/");
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            EnsureAlive();
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var c = await ConnectAsync(cts.Token);
                await c.SendAsync(request);
                var (head, body) = await c.ReadResponseAsync().AsTask().WaitAsync(cts.Token);
                if (head.Status == 200) return;
                throw new BenchFailure($"{Name}: GET {Url}v2/keys/ answered HTTP {head.Status} ({Answers.Text(body.Span)}); is the etcd v2 keys API served there?");
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or InvalidDataException)
            {
                last = e;
            }
            await Task.Delay(200);
        }
        throw new BenchFailure($"{Name}: no answer to GET {Url}v2/keys/ within {timeout.TotalSeconds:0} s ({last?.Message})");
    }

    /// <summary>The server's own version from GET /version, or null when it has none.</summary>
    public async Task<string?> VersionAsync()
    {
        try
        {
            using var c = await ConnectAsync();
            await c.SendAsync(Requests.Get(Host, "/version"));
            var (head, body) = await c.ReadResponseAsync();
            return head.IsSuccess ? Encoding.UTF8.GetString(body.Span) : null;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
        {
            return null;
        }
    }

    public override string ToString() => $"{Name} ({Url}{(Pid is { } p ? $", pid {p}" : "")})";
}
