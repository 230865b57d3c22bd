using System.Diagnostics;
using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Etcd;

/// <summary>What one process printed and how it exited.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\n  stdout: {Quote(StdOut)}\n  stderr: {Quote(StdErr)}";

    private static string Quote(string text) => text.Length == 0 ? "(empty)" : "\n    " + text.TrimEnd('\n').Replace("\n", "\n    ");
}

/// <summary>A child process whose output is captured as it arrives (a watcher's lines can be awaited before it is stopped).</summary>
public sealed class CapturedProcess : IAsyncDisposable
{
    private const int SIGINT = 2;

    private readonly Process _process;

    private CapturedProcess(Process process)
    {
        _process = process;
        StdOut = new OutputCapture(process.StandardOutput);
        StdErr = new OutputCapture(process.StandardError);
        Exited = process.WaitForExitAsync();
    }

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited { get; }

    public OutputCapture StdOut { get; }
    public OutputCapture StdErr { get; }

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/>; environment variables starting with ETCD are dropped, then <paramref name="environment"/> is added.</summary>
    public static CapturedProcess Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        ToolCheck.Require(file);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Only what a test passes counts: ETCDCTL_ENDPOINTS and friends from the environment must not.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        return new CapturedProcess(Process.Start(psi)!);
    }

    /// <summary>Waits for the process to end by itself; a timeout fails with what it printed so far.</summary>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_process.StartInfo.FileName} still running after {timeout.TotalSeconds} s; so far stdout: '{StdOut.Text}' stderr: '{StdErr.Text}'");
        }
        await Task.WhenAll(StdOut.Completed, StdErr.Completed);
        return new ProcessResult(_process.ExitCode, StdOut.Text, StdErr.Text);
    }

    /// <summary>Ctrl+C, as a person stops <c>watch --forever</c> (etcdctl exits 0 on it).</summary>
    public Task<ProcessResult> InterruptAsync()
    {
        if (!_process.HasExited) Posix.Kill(_process.Id, SIGINT);
        return WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync() => await _process.KillAndDisposeAsync();
}

/// <summary>A process stream's text as it arrives; a test can wait for a number of lines without sleeping.</summary>
public sealed class OutputCapture
{
    private readonly StringBuilder _text = new();
    private readonly ChangeSignal _signal = new();
    private int _lines;

    public OutputCapture(StreamReader reader) => Completed = PumpAsync(reader);

    /// <summary>Completes when the stream ends.</summary>
    public Task Completed { get; }

    public string Text
    {
        get { lock (_text) return _text.ToString(); }
    }

    public int Lines
    {
        get { lock (_text) return _lines; }
    }

    /// <summary>True once at least <paramref name="count"/> complete lines arrived; false on timeout or end of stream before that.</summary>
    public async Task<bool> WaitForLinesAsync(int count, TimeSpan timeout) =>
        await _signal.WaitUntilAsync(() => Lines >= count, timeout, Completed) || Lines >= count;

    /// <summary>True once <paramref name="text"/> arrived; false on timeout or end of stream before that.</summary>
    public async Task<bool> WaitForTextAsync(string text, TimeSpan timeout) =>
        await _signal.WaitUntilAsync(() => Text.Contains(text, StringComparison.Ordinal), timeout, Completed) || Text.Contains(text, StringComparison.Ordinal);

    private async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (_text)
            {
                _text.Append(buffer, 0, read);
                _lines += buffer.AsSpan(0, read).Count('\n');
            }
            _signal.Notify();
        }
    }
}

internal static class ProcessExtensions
{
    /// <summary>Kills the process (and what it started, such as exec-watch's commands) unless it ended, then releases it.</summary>
    public static async Task KillAndDisposeAsync(this Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
