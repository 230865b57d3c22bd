using System.ComponentModel;
using Microsoft.Extensions.Logging;

namespace Platform.Agent.Handlers;

/// <summary>
/// Runs one handler as Serf does: <c>/bin/sh -c SCRIPT</c> with the event's environment and standard input, stdout and
/// stderr on one pipe. It runs in a session of its own (<see cref="SessionProcess"/>) so a timeout kills its whole process group.
/// </summary>
public sealed partial class HandlerProcess(TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Serf keeps the last 8 KB of a handler's output.</summary>
    public const int MaxOutput = 8 * 1024;

    private const string Shell = "/bin/sh";

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
        var output = new OutputTail(MaxOutput);
        SessionProcess process;
        try
        {
            process = Start(script.Script, SessionProcess.Inherited(HandlerInput.Environment(e, selfName, selfTags)));
        }
        catch (Win32Exception failure)
        {
            LogStartFailed(logger, script.Script, failure.Message);
            return new HandlerResult(script, e, null, [], 0, false, timeProvider.GetElapsedTime(started), failure.Message);
        }
        using var owned = process;

        using var deadline = timeout is { } t
            ? new CancellationTokenSource(t, timeProvider)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);

        var stdin = WriteStdinAsync(process.Input, HandlerInput.Stdin(e), script.Script);
        var stdout = ReadAsync(process.Output, output);
        var timedOut = false;
        int? status = null;
        string? waitError = null;
        try
        {
            status = await process.Exited.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = deadline.IsCancellationRequested;
            process.KillGroup();
            status = await ExitOf(process).ConfigureAwait(false);
        }
        catch (Win32Exception failure)
        {
            waitError = failure.Message;
        }
        // A grandchild that kept the pipe open must not hold the run: the output is whatever arrived by now.
        await Task.WhenAny(Task.WhenAll(stdout, stdin), Task.Delay(TimeSpan.FromSeconds(1), timeProvider, CancellationToken.None)).ConfigureAwait(false);

        var elapsed = timeProvider.GetElapsedTime(started);
        byte[] bytes;
        long written;
        lock (output)
        {
            bytes = output.ToArray();
            written = output.TotalWritten;
        }
        if (written > MaxOutput) LogTruncated(logger, script.Script, written, MaxOutput);
        int? exitCode = timedOut || cancellationToken.IsCancellationRequested ? null : status;
        if (timedOut) LogTimedOut(logger, script.Script, timeout!.Value);
        else if (elapsed > TimeSpan.FromSeconds(1)) LogSlow(logger, script.Script, elapsed);
        LogOutput(logger, e.Type, exitCode, System.Text.Encoding.UTF8.GetString(bytes));
        return new HandlerResult(script, e, exitCode, bytes, written, timedOut, elapsed,
            timedOut ? $"killed after the handler timeout of {timeout}" : waitError ?? (exitCode is null ? "killed: the agent is stopping" : null));
    }

    /// <summary>
    /// <c>/bin/sh -c SCRIPT</c>, or SCRIPT itself where the shell would only exec it (<see cref="ShellBypass"/>). A program
    /// the exec refuses (missing, not executable, no <c>#!</c>) goes to the shell after all, which runs it or fails it
    /// with its own message and status, as under Serf.
    /// </summary>
    private static SessionProcess Start(string script, Dictionary<string, string> environment)
    {
        if (ShellBypass.Program(script) is { } program)
        {
            try
            {
                return SessionProcess.Start(program, [program], ShellBypass.Environment(environment));
            }
            catch (SpawnException)
            {
                // The shell below decides what to make of it.
            }
        }
        return SessionProcess.Start(Shell, [Shell, "-c", script], environment);
    }

    private async Task WriteStdinAsync(Stream stream, byte[] input, string script)
    {
        try
        {
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

    private static async Task<int?> ExitOf(SessionProcess process)
    {
        try
        {
            return await process.Exited.ConfigureAwait(false);
        }
        catch (Win32Exception)
        {
            return null;
        }
    }

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
