using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Platform.Nodes.Bench;

/// <summary>A process the bench started (agent, silo): its last lines of output kept for failure messages; killed on dispose.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    private const int KeptLines = 40;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<ChildProcess, byte> s_running = new();
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly System.Text.StringBuilder? _all;

    private ChildProcess(string label, Process process, bool keepAll)
    {
        Label = label;
        _process = process;
        if (keepAll) _all = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        s_running[this] = 0;
    }

    /// <summary>Kills every process started and not yet disposed (stopped ones continued first): the driver was interrupted.</summary>
    public static void KillAll()
    {
        foreach (var child in s_running.Keys)
        {
            try
            {
                child.Signal(SIGCONT);
                if (!child._process.HasExited) child._process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }

    public string Label { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Tail
    {
        get { lock (_tail) return string.Join('\n', _tail); }
    }

    public static ChildProcess Start(string label, string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool keepAll = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        return new ChildProcess(label, Process.Start(psi) ?? throw new BenchFailure($"could not start {file}"), keepAll);
    }

    /// <summary>Runs a command to its end and returns its exit code and whole output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        await using var p = Start(file, file, args, keepAll: true);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new BenchFailure($"`{file} {string.Join(' ', args)}` still running after {timeout.TotalSeconds:0} s:\n{p.Tail}");
        }
        p._process.WaitForExit();
        lock (p._tail) return (p._process.ExitCode, p._all!.ToString());
    }

    public void Signal(int signal)
    {
        if (!_process.HasExited) _ = kill(_process.Id, signal);
    }

    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public void EnsureAlive()
    {
        if (_process.HasExited) throw new BenchFailure($"{Label} exited with {_process.ExitCode}:\n{Tail}");
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _all?.AppendLine(line);
            _tail.Enqueue(line);
            if (_tail.Count > KeptLines) _tail.Dequeue();
        }
    }

    public async ValueTask DisposeAsync()
    {
        s_running.TryRemove(this, out _);
        if (!_process.HasExited)
        {
            Signal(SIGCONT);
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
