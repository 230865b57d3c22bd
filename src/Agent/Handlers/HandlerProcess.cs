using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Platform.Agent.Handlers;

/// <summary>
/// Runs one handler as Serf does: <c>/bin/sh -c SCRIPT</c> with the event's environment and standard input, stdout and
/// stderr on one pipe. It runs in its own session (setsid) so a timeout kills its whole process group.
/// </summary>
public sealed partial class HandlerProcess(TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Serf keeps the last 8 KB of a handler's output.</summary>
    public const int MaxOutput = 8 * 1024;

    private const string Shell = "/bin/sh";
    private const string SetSid = "/usr/bin/setsid";
    private static readonly bool s_hasSetSid = File.Exists(SetSid);

    /// <summary>Runs <paramref name="script"/> for <paramref name="e"/>; kills it after <paramref name="timeout"/> (null: never) or on cancellation.</summary>
    public async Task<HandlerResult> RunAsync(
        EventScript script,
        HandlerEvent e,
        string selfName,
        IReadOnlyDictionary<string, string> selfTags,
        TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var start = new ProcessStartInfo
        {
            FileName = s_hasSetSid ? SetSid : Shell,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (s_hasSetSid) start.ArgumentList.Add(Shell);
        // The outer shell only joins stderr to stdout and execs the real `/bin/sh -c SCRIPT`, so the handler sees
        // exactly Serf's invocation and both streams interleave in one pipe as they do under Serf.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec " + Shell + " -c \"$1\" 2>&1");
        start.ArgumentList.Add(Shell);
        start.ArgumentList.Add(script.Script);
        foreach (var (name, value) in HandlerInput.Environment(e, selfName, selfTags)) start.Environment[name] = value;

        var output = new OutputTail(MaxOutput);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception failure)
        {
            LogStartFailed(logger, script.Script, failure.Message);
            return new HandlerResult(script, e, null, [], 0, false, timeProvider.GetElapsedTime(started), failure.Message);
        }

        using var deadline = timeout is { } t
            ? new CancellationTokenSource(t, timeProvider)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);

        var stdin = WriteStdinAsync(process, HandlerInput.Stdin(e), script.Script);
        var stdout = ReadAsync(process.StandardOutput.BaseStream, output);
        var stderr = ReadAsync(process.StandardError.BaseStream, output);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = deadline.IsCancellationRequested;
            KillGroup(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        // A grandchild that kept the pipe open must not hold the run: the output is whatever arrived by now.
        await Task.WhenAny(Task.WhenAll(stdout, stderr, stdin), Task.Delay(TimeSpan.FromSeconds(1), timeProvider, CancellationToken.None)).ConfigureAwait(false);

        var elapsed = timeProvider.GetElapsedTime(started);
        byte[] bytes;
        long written;
        lock (output)
        {
            bytes = output.ToArray();
            written = output.TotalWritten;
        }
        if (written > MaxOutput) LogTruncated(logger, script.Script, written, MaxOutput);
        int? exitCode = timedOut || cancellationToken.IsCancellationRequested ? null : process.ExitCode;
        if (timedOut) LogTimedOut(logger, script.Script, timeout!.Value);
        else if (elapsed > TimeSpan.FromSeconds(1)) LogSlow(logger, script.Script, elapsed);
        LogOutput(logger, e.Type, exitCode, System.Text.Encoding.UTF8.GetString(bytes));
        return new HandlerResult(script, e, exitCode, bytes, written, timedOut, elapsed,
            timedOut ? $"killed after the handler timeout of {timeout}" : exitCode is null ? "killed: the agent is stopping" : null);
    }

    private async Task WriteStdinAsync(Process process, byte[] input, string script)
    {
        try
        {
            var stream = process.StandardInput.BaseStream;
            if (input.Length > 0) await stream.WriteAsync(input).ConfigureAwait(false);
            await stream.FlushAsync().ConfigureAwait(false);
            stream.Close();
        }
        catch (IOException failure)
        {
            // The script did not read all its input (it exited first): Serf logs this and goes on.
            LogStdinFailed(logger, script, failure.Message);
        }
    }

    private static async Task ReadAsync(Stream stream, OutputTail output)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            lock (output) output.Write(buffer.AsSpan(0, read));
        }
    }

    private static void KillGroup(Process process)
    {
        try
        {
            if (s_hasSetSid && !OperatingSystem.IsWindows()) _ = Kill(-process.Id, SigKill);
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the deadline and the kill.
        }
    }

    private const int SigKill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "agent: Error invoking script '{Script}': {Error}")]
    private static partial void LogStartFailed(ILogger logger, string script, string error);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "agent: Script '{Script}' generated {Written} bytes of output, truncated to {Size}")]
    private static partial void LogTruncated(ILogger logger, string script, long written, int size);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "agent: Script '{Script}' killed with its process group after the handler timeout of {Timeout}")]
    private static partial void LogTimedOut(ILogger logger, string script, TimeSpan timeout);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "agent: Script '{Script}' slow, execution took {Elapsed}")]
    private static partial void LogSlow(ILogger logger, string script, TimeSpan elapsed);

    [LoggerMessage(EventId = 304, Level = LogLevel.Debug, Message = "agent: Event '{Event}' script exit {ExitCode}, output: {Output}")]
    private static partial void LogOutput(ILogger logger, string @event, int? exitCode, string output);

    [LoggerMessage(EventId = 305, Level = LogLevel.Debug, Message = "agent: Script '{Script}' did not read all its input: {Error}")]
    private static partial void LogStdinFailed(ILogger logger, string script, string error);
}
