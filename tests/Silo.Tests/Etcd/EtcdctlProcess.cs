using System.Diagnostics;
using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Etcd;

/// <summary>What one etcdctl run printed and how it exited.</summary>
public sealed record EtcdctlResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\n  stdout: {Quote(StdOut)}\n  stderr: {Quote(StdErr)}";

    private static string Quote(string text) => text.Length == 0 ? "(empty)" : "\n    " + text.TrimEnd('\n').Replace("\n", "\n    ");
}

/// <summary>
/// One <c>ETCDCTL_API=2 etcdctl --endpoints URL [--no-sync] ARGS</c> process, its output captured as it arrives
/// (a watcher's lines can be awaited before it is stopped).
/// </summary>
public sealed class EtcdctlProcess : IAsyncDisposable
{
    private const int SIGINT = 2;

    private readonly Process _process;

    private EtcdctlProcess(Process process)
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

    public static EtcdctlProcess Start(Uri endpoint, IEnumerable<string> args, bool noSync = false)
    {
        ToolCheck.Require("etcdctl");
        var psi = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Only the endpoint given here counts: ETCDCTL_ENDPOINTS and friends from the environment must not.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        psi.Environment["ETCDCTL_API"] = "2";
        psi.ArgumentList.Add("--endpoints");
        psi.ArgumentList.Add(endpoint.ToString().TrimEnd('/'));
        if (noSync) psi.ArgumentList.Add("--no-sync");
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        return new EtcdctlProcess(Process.Start(psi)!);
    }

    /// <summary>Runs etcdctl to completion.</summary>
    public static async Task<EtcdctlResult> RunAsync(Uri endpoint, IEnumerable<string> args, bool noSync = false)
    {
        await using var process = Start(endpoint, args, noSync);
        return await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Waits for the process to end by itself; a timeout fails with what it printed so far.</summary>
    public async Task<EtcdctlResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"etcdctl still running after {timeout.TotalSeconds} s; so far stdout: '{StdOut.Text}' stderr: '{StdErr.Text}'");
        }
        await Task.WhenAll(StdOut.Completed, StdErr.Completed);
        return new EtcdctlResult(_process.ExitCode, StdOut.Text, StdErr.Text);
    }

    /// <summary>Ctrl+C, as a person stops <c>watch --forever</c> (etcdctl exits 0 on it).</summary>
    public Task<EtcdctlResult> InterruptAsync()
    {
        if (!_process.HasExited) Posix.Kill(_process.Id, SIGINT);
        return WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>A process stream's text as it arrives; a test can wait for a number of lines without sleeping.</summary>
public sealed class OutputCapture
{
    private readonly StringBuilder _text = new();
    private int _lines;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
    public async Task<bool> WaitForLinesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task changed;
            lock (_text)
            {
                if (_lines >= count) return true;
                changed = _changed.Task;
            }
            if (Completed.IsCompleted) return Lines >= count;
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) return false;
            await Task.WhenAny(changed, Completed, Task.Delay(remaining));
        }
    }

    private async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            TaskCompletionSource changed;
            lock (_text)
            {
                _text.Append(buffer, 0, read);
                _lines += buffer.AsSpan(0, read).Count('\n');
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }
    }
}
