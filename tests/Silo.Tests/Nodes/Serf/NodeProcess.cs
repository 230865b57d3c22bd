using System.Diagnostics;
using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>An agent or command process with its output captured (for failure messages); SIGKILL, SIGSTOP and SIGTERM on demand.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private NodeProcess(string label, Process process)
    {
        Label = label;
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Label { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Waits for the output to hold <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) => ProcessOutput.WaitForAsync(() => Output, text, timeout, Label);

    /// <summary>Starts <paramref name="file"/>; <paramref name="environment"/> is added to this process's environment.</summary>
    public static NodeProcess Start(string label, string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        return new NodeProcess(label, Process.Start(psi)!);
    }

    /// <summary>Runs a command to its end; a timeout kills it and fails with what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string label, string file, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var p = Start(label, file, args, environment);
        await p.WaitForExitAsync(timeout);
        return (p._process.ExitCode, p.Output);
    }

    /// <summary>kill -9: the process gets no chance to say goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends a signal (SIGTERM, SIGINT, SIGSTOP, SIGCONT) without waiting.</summary>
    public void Signal(int signal)
    {
        if (!_process.HasExited) Posix.Kill(_process.Id, signal);
    }

    /// <summary>Waits for the process to end by itself; a timeout fails with what it printed so far.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Label} still running after {timeout.TotalSeconds} s; its output:\n{Output}");
        }
        // The asynchronous readers may still hold the last lines.
        _process.WaitForExit();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A process left stopped by a test must not outlive it either.
            Posix.Kill(_process.Id, NodeSignals.SIGCONT);
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>Linux signal numbers the tests send.</summary>
public static class NodeSignals
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGTERM = 15;
    public const int SIGSTOP = 19;
    public const int SIGCONT = 18;
}
