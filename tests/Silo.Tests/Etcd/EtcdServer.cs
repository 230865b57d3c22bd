using System.Diagnostics;
using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// A private etcd 3.4 with the v2 API enabled: loopback only, free client and peer ports, its data in a temporary
/// directory (on tmpfs when there is one, so its fsyncs are cheap). Killed and removed on dispose.
/// </summary>
public sealed class EtcdServer : IKeysServer
{
    private const int StartAttempts = 3;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _dataDir;
    private readonly StringBuilder _log = new();

    private EtcdServer(Process process, string dataDir, string name, int clientPort)
    {
        _process = process;
        _dataDir = dataDir;
        Name = name;
        Url = new Uri($"http://127.0.0.1:{clientPort}");
        Http = KeysServer.NewClient(Url);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public bool IsPlatform => false;
    public Uri Url { get; }
    public HttpClient Http { get; }

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Starts etcd and waits until its v2 API answers; retries on fresh ports if a port was taken meanwhile.</summary>
    public static async Task<EtcdServer> StartAsync(string name)
    {
        ToolCheck.Require("etcd");
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(name);
            try
            {
                await server.WaitUntilReadyAsync();
                return server;
            }
            catch (EtcdExitedException) when (attempt < StartAttempts)
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    private static EtcdServer Launch(string name)
    {
        var ports = SiloClusterProcesses.DistinctFreePorts(2);
        var (client, peer) = ($"http://127.0.0.1:{ports[0]}", $"http://127.0.0.1:{ports[1]}");
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dataDir = Path.Combine(root, "platform-etcd-" + Guid.NewGuid().ToString("N")[..12]);
        var psi = new ProcessStartInfo("etcd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "--name", name, "--data-dir", dataDir, "--enable-v2",
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"{name}={peer}", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-level", "warn",
        })
        {
            psi.ArgumentList.Add(arg);
        }
        // Settings of an etcd the machine runs must not leak into ours.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        return new EtcdServer(Process.Start(psi)!, dataDir, name, ports[0]);
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (_process.HasExited) throw new EtcdExitedException($"etcd exited with {_process.ExitCode} before it answered:\n{Log}");
            try
            {
                using var response = await Http.GetAsync("/v2/keys/");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"etcd at {Url} did not answer /v2/keys/ within {ReadyTimeout.TotalSeconds} s:\n{Log}");
            await Task.Delay(50);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.KillAndDisposeAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed class EtcdExitedException(string message) : Exception(message);
}
