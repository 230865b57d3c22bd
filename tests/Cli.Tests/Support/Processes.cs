using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Platform.Cli.Tests.Support;

/// <summary>A long-running real process (a silo, a node agent, <c>platform monitor</c>) whose output lines can be awaited.</summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    private RunningProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Standard output and error so far, interleaved as they arrived.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Standard output only.</summary>
    public List<string> StdOut { get; } = [];

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static RunningProcess Start(ProcessStartInfo psi) => new(Process.Start(psi)!);

    private void OnLine(string? line, bool stdout)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            if (stdout) StdOut.Add(line);
            foreach (var (match, seen) in _waiters)
                if (stdout && match(line)) seen.TrySetResult(line);
        }
    }

    /// <summary>Waits for a line of standard output matching <paramref name="match"/> (one already printed counts).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var line in StdOut)
                if (match(line)) return line;
            _waiters.Add((match, seen));
        }
        try
        {
            return await seen.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no matching line within {timeout.TotalSeconds} s; output:\n{Output}");
        }
    }

    /// <summary>SIGINT, as Ctrl+C sends it; then waits for the exit and returns its code.</summary>
    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        _ = kill(_process.Id, 2);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>The real <c>platform</c> executable (<c>dotnet platform.dll …</c> from the test output).</summary>
public static class PlatformCommand
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? urlEnvironment = null)
    {
        var dir = AppContext.BaseDirectory;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        psi.ArgumentList.Add(Path.Combine(dir, "platform.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("PLATFORM_URL");
        if (urlEnvironment is not null) psi.Environment["PLATFORM_URL"] = urlEnvironment;
        psi.Environment["DOTNET_gcServer"] = "0";
        return psi;
    }

    /// <summary>Runs <c>platform ARGS</c> to its end (60 s at most); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"platform {string.Join(' ', args)} did not end within 60 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "platform-cli-test-" + Guid.NewGuid().ToString("N")[..12]);

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
