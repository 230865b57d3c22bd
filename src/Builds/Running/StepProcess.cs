using System.ComponentModel;
using System.Diagnostics;

namespace Platform.Builds.Running;

/// <summary>
/// Runs a step's process in a session and process group of its own (<c>setsid</c>), stdout and stderr joined in one pipe
/// and streamed as written. Cancel and timeout send SIGTERM to the whole group and SIGKILL after the grace period; when
/// the step ends, whatever it left running in its group is killed so nothing outlives the job; nor does it outlive the
/// agent (<see cref="OrphanGuard"/>).
/// </summary>
public static class StepProcess
{
    private const string SetSid = "/usr/bin/setsid";
    private const string Shell = "/bin/sh";

    /// <summary>
    /// A watcher in the step's group that kills the group once this process is gone: an agent killed with SIGKILL cannot
    /// stop its steps itself, and a step that ran on would run beside its retry on another agent. It checks once a
    /// second; a step's normal end, cancel or timeout kill it with the rest of the group. <paramref name="cleanup"/>, a
    /// shell command, runs first: what the step runs outside its group (a container, kept by the engine's monitor).
    /// </summary>
    private static string OrphanGuard(string? cleanup) =>
        $"(while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {(cleanup is null ? "" : cleanup + "; ")}kill -KILL 0) </dev/null >/dev/null 2>&1 & ";

    /// <summary>
    /// Runs <paramref name="command"/>; <paramref name="terminate"/>, when given, is how a cancel or timeout stops it
    /// (a container engine's kill), called with SIGTERM and then SIGKILL, after which the group is killed too.
    /// <paramref name="stdin"/> is written to its standard input (then closed; a command that does not read it all is
    /// fine); with <paramref name="error"/> its standard error goes there instead of joining <paramref name="output"/>.
    /// Without <paramref name="killGroupAtEnd"/>, what the command leaves running after a normal end is left alone (a deploy's
    /// post command may start a service); a cancel or timeout still stops the whole group. <paramref name="orphanCleanup"/>
    /// is a shell command that stops what the step runs outside its group, should this process die before the step ends.
    /// </summary>
    public static async Task<StepExit> RunAsync(
        StepCommand command,
        Action<ReadOnlySpan<byte>> output,
        TimeSpan timeout,
        TimeSpan grace,
        CancellationToken cancellationToken,
        Func<int, Task>? terminate = null,
        ReadOnlyMemory<byte> stdin = default,
        Action<ReadOnlySpan<byte>>? error = null,
        bool killGroupAtEnd = true,
        string? orphanCleanup = null)
    {
        var start = new ProcessStartInfo(File.Exists(SetSid) ? SetSid : throw new JobFailedException($"{SetSid} is missing; the agent needs util-linux's setsid to give each step its own process group"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = command.WorkingDirectory,
        };
        // setsid makes the new session (its pid is the group's id) and execs the shell, which joins stderr to stdout so
        // both interleave as written, then execs the step itself: no shell stays between the group and the step.
        start.ArgumentList.Add(Shell);
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add((killGroupAtEnd ? OrphanGuard(orphanCleanup) : "") + (error is null ? "exec \"$0\" \"$@\" 2>&1" : "exec \"$0\" \"$@\""));
        start.ArgumentList.Add(command.FileName);
        foreach (var arg in command.Args) start.ArgumentList.Add(arg);
        start.Environment.Clear();
        foreach (var (name, value) in command.Environment) start.Environment[name] = value;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new JobFailedException($"'{command.FileName}' cannot be started: {e.Message}", e);
        }
        var group = process.Id;
        var gate = new PumpGate();
        var stdout = PumpAsync(process.StandardOutput.BaseStream, output, gate);
        var stderr = PumpAsync(process.StandardError.BaseStream, error ?? output, gate);
        var input = FeedAsync(process.StandardInput.BaseStream, stdin);

        using var deadline = new CancellationTokenSource(timeout);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        bool canceled = false, timedOut = false;
        try
        {
            await process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            canceled = !timedOut;
            await SignalAsync(group, Signals.Term, terminate).ConfigureAwait(false);
            using var graceOver = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(graceOver.Token).ConfigureAwait(false);
                // The step went; the rest of its group (a child that traps SIGTERM to clean up) gets what is left of the grace period.
                while (Signals.ToGroup(group, Signals.Probe)) await Task.Delay(50, graceOver.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await SignalAsync(group, Signals.Kill, terminate).ConfigureAwait(false);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        // The step is over: children it left behind in its group go with it (they would hold the log's pipe open).
        if (killGroupAtEnd || canceled || timedOut) Signals.ToGroup(group, Signals.Kill);
        // A process that left the group (its own setsid) and kept the pipe must not hold the job: its output is cut here.
        await Task.WhenAny(Task.WhenAll(stdout, stderr, input), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        // Output arriving after this (a process that kept the pipe) is not the step's: the caller's sink is done with it.
        lock (gate) gate.Closed = true;
        return new StepExit(process.ExitCode, canceled, timedOut);
    }

    private static async Task SignalAsync(int group, int signal, Func<int, Task>? terminate)
    {
        if (terminate is not null) await terminate(signal).ConfigureAwait(false);
        if (terminate is null || signal == Signals.Kill) Signals.ToGroup(group, signal);
    }

    private static async Task FeedAsync(Stream stdin, ReadOnlyMemory<byte> data)
    {
        try
        {
            if (!data.IsEmpty) await stdin.WriteAsync(data).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The command did not read its standard input to the end: allowed, as with a pipe.
        }
        finally
        {
            try { stdin.Dispose(); }
            catch (IOException) { }
        }
    }

    private sealed class PumpGate
    {
        public bool Closed;
    }

    private static async Task PumpAsync(Stream stream, Action<ReadOnlySpan<byte>> output, PumpGate gate)
    {
        var buffer = new byte[JobLog.MaxChunkBytes];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (gate)
                {
                    if (gate.Closed) return;
                    output(buffer.AsSpan(0, read));
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe broke with the process (or was closed after it): what arrived is the output.
        }
    }
}
