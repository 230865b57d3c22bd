using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Silo.Tests.Support;

/// <summary>A real silo process (the Platform.Silo executable) on a free loopback port, with the test-grains extension loaded.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }
    public int Pid => _process.Id;
    public HttpClient Http { get; }
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Waits for the output to hold <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => ProcessOutput.WaitForAsync(() => Output, text, timeout, "the silo");

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var dir = AppContext.BaseDirectory;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        psi.ArgumentList.Add(Path.Combine(dir, "Platform.Silo.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_gcServer"] = "0";
        return psi;
    }

    /// <summary>Starts a silo with SQLite in <paramref name="dataDir"/> (or the given extra args) and waits until /health/ready answers.</summary>
    public static Task<SiloProcess> StartAsync(string dataDir, int? port = null, params string[] extra) => StartAsync(dataDir, port, null, extra);

    /// <summary>As <see cref="StartAsync(string, int?, string[])"/>, with extra environment variables for the silo.</summary>
    public static async Task<SiloProcess> StartAsync(string dataDir, int? port, IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var p = port ?? FreePort();
        var args = new List<string>
        {
            "--urls", $"http://127.0.0.1:{p}",
            "--data-dir", dataDir,
            "--Platform:Extensions:0", Path.Combine(AppContext.BaseDirectory, "Platform.Silo.TestGrains.dll"),
        };
        args.AddRange(extra);
        var psi = StartInfo([.. args]);
        if (environment is not null)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        var process = Process.Start(psi)!;
        var silo = new SiloProcess(process, p);
        try
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            return silo;
        }
        catch
        {
            // Nobody else holds this process yet: a silo that never became ready must not outlive the test.
            await silo.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls /health/ready until it answers 200; fails at once if the process exits.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"silo exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var r = await Http.GetAsync("/health/ready");
                if (r.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo not ready within {timeout.TotalSeconds:0} s:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// SIGKILL: no chance to flush anything. Waits for the exit without blocking a thread: the exit can take a second
    /// (a thread of the silo in a disk write, say), and agents in this test process must go on pinging meanwhile.
    /// </summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then waits for exit and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        Posix.Kill(_process.Id, Posix.SIGTERM);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary>Runs the silo with arguments that should make it refuse to start; returns exit code and output.</summary>
    public static async Task<(int ExitCode, string StdErr, string StdOut)> RunExpectingFailureAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("silo kept running although its configuration is bad");
        }
        return (process.ExitCode, await stderr, await stdout);
    }
}

internal static class Posix
{
    public const int SIGTERM = 15;
    public const int SIGSTOP = 19;
    public const int SIGCONT = 18;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "platform-test-" + Guid.NewGuid().ToString("N")[..12]);

    public TempDir() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
