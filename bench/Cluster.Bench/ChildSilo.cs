using System.Diagnostics;
using System.Globalization;
using Platform.Runtime.Membership;

namespace Platform.Cluster.Bench;

/// <summary>A <c>serve</c> child process as the driver sees it: its pid, address and every view it reported.</summary>
public sealed class ChildSilo : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly List<ReportedView> _views = [];

    public readonly record struct ReportedView(long Timestamp, int Version, int Active, Dictionary<SiloAddress, SiloStatus> Members);

    private ChildSilo(Process process, string name, string logPath)
    {
        _process = process;
        Name = name;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    public string Name { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public SiloAddress Address { get; private set; }
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet &lt;this dll&gt; serve ...</c>.</summary>
    public static ChildSilo Start(string postgres, string clusterId, string name, string logDir, Platform.Runtime.Transport.SiloTlsOptions? tls = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Cluster.Bench.dll");
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "serve", "--postgres", postgres, "--silo-port", "0", "--cluster-id", clusterId, "--name", name })
            psi.ArgumentList.Add(a);
        if (tls is not null)
            foreach (var a in new[] { "--tls-cert", tls.CertificateFile!, "--tls-key", tls.KeyFile!, "--tls-ca", tls.CaFile! })
                psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildSilo(process, name, Path.Combine(logDir, $"{name}.log"));
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) child.Log(line); };
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException($"{name} exited ({child.SafeExitCode()}) before it was ready; see {child.LogPath}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    private string SafeExitCode()
    {
        try { return $"exit code {_process.ExitCode}"; } catch (InvalidOperationException) { return "exit code unknown"; }
    }

    private bool _closed;

    private void Log(string line)
    {
        lock (_gate)
        {
            if (!_closed) _log.WriteLine(line);
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        Log("stdout: " + line);
        var parts = line.Split(' ');
        switch (parts[0])
        {
            case "READY" when parts.Length >= 3:
                Address = SiloAddress.Parse(parts[2]);
                _ready.TrySetResult();
                break;
            case "VIEW" when parts.Length >= 4:
                var members = new Dictionary<SiloAddress, SiloStatus>();
                if (parts.Length >= 5 && parts[4].Length > 0)
                {
                    foreach (var m in parts[4].Split(','))
                    {
                        var eq = m.LastIndexOf('=');
                        members[SiloAddress.Parse(m[..eq])] = Enum.Parse<SiloStatus>(m[(eq + 1)..]);
                    }
                }
                var view = new ReportedView(long.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture),
                    int.Parse(parts[3], CultureInfo.InvariantCulture), members);
                lock (_gate) _views.Add(view);
                break;
        }
    }

    public async Task WaitReadyAsync(TimeSpan timeout) => await _ready.Task.WaitAsync(timeout);

    /// <summary>The newest view this child reported (highest version).</summary>
    public ReportedView? LatestView
    {
        get
        {
            lock (_gate) return _views.Count == 0 ? null : _views.MaxBy(v => v.Version);
        }
    }

    /// <summary>When this child first applied a view in which <paramref name="silo"/> is Dead (its own monotonic timestamp).</summary>
    public long? FirstSawDead(SiloAddress silo)
    {
        lock (_gate)
        {
            foreach (var v in _views.OrderBy(v => v.Version))
                if (v.Members.TryGetValue(silo, out var s) && s == SiloStatus.Dead) return v.Timestamp;
        }
        return null;
    }

    /// <summary>SIGKILL (Process.Kill on Unix sends SIGKILL): no goodbye, no Dead row written.</summary>
    public void Kill() => _process.Kill();

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Graceful: closes stdin (the child leaves the cluster and exits); SIGKILL if it has not exited in time.</summary>
    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (!_process.HasExited)
            {
                try { _process.StandardInput.Close(); } catch (IOException) { }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Log("driver: no exit within 30 s of closing stdin; killing");
                    _process.Kill();
                    await _process.WaitForExitAsync();
                }
            }
            else
            {
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            lock (_gate)
            {
                _closed = true;
                _log.Dispose();
            }
            _process.Dispose();
        }
    }
}
