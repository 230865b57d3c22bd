using System.Collections;
using Platform.Builds.Running;

namespace Platform.Agent.Deploy;

/// <summary>
/// Runs one manifest command line as Stretcher does, with <c>sh -c LINE</c>, and the programs a deploy needs (rsync), each
/// in a session and process group of its own (<see cref="StepProcess"/>, as build steps run): a cancel or timeout sends
/// SIGTERM to the whole group and SIGKILL after the grace period, so no process of a stopped command outlives it. A command
/// that ends by itself may leave a service it started running, as under Stretcher.
/// </summary>
public static class ShellCommand
{
    private const string Shell = "/bin/sh";

    /// <summary>Runs <paramref name="line"/>; its output (stdout and stderr joined) joins the log. Returns the exit code.</summary>
    public static Task<int> RunAsync(string line, DeployLog log, TimeSpan grace, CancellationToken cancellationToken)
        => RunProgramAsync(Shell, ["-c", line], log, grace, cancellationToken);

    /// <summary>Runs <paramref name="line"/> with <paramref name="stdin"/> on its standard input and its output passed through to ours, as for success and failure commands.</summary>
    public static async Task<int> RunPipedAsync(string line, byte[] stdin, TextWriter output, TextWriter error, TimeSpan grace, CancellationToken cancellationToken)
    {
        var toOutput = new Utf8Writer(output);
        var toError = new Utf8Writer(error);
        var exit = await RunAsync(Command(Shell, ["-c", line]), toOutput.Write, toError.Write, stdin, grace, cancellationToken).ConfigureAwait(false);
        toOutput.Complete();
        toError.Complete();
        return exit;
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; stdout and stderr go to the log.</summary>
    public static async Task<int> RunProgramAsync(string program, IEnumerable<string> args, DeployLog log, TimeSpan grace, CancellationToken cancellationToken)
    {
        var output = log.Command();
        try
        {
            return await RunAsync(Command(program, args), output.Write, null, default, grace, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            output.Complete();
        }
    }

    private static async Task<int> RunAsync(StepCommand command, Action<ReadOnlySpan<byte>> output, Action<ReadOnlySpan<byte>>? error, ReadOnlyMemory<byte> stdin,
        TimeSpan grace, CancellationToken cancellationToken)
    {
        StepExit exit;
        try
        {
            // A command that starts a service in the background (post: "app start &") leaves it running when it ends normally.
            exit = await StepProcess.RunAsync(command, output, Timeout.InfiniteTimeSpan, grace, cancellationToken, stdin: stdin, error: error, killGroupAtEnd: false).ConfigureAwait(false);
        }
        catch (JobFailedException e)
        {
            throw new DeployException($"cannot start {command.FileName}: {e.Message}", e);
        }
        // Stopped by a cancel or the deploy's timeout: the caller says which.
        if (exit.Canceled || exit.TimedOut) throw new OperationCanceledException(cancellationToken);
        return exit.ExitStatus;
    }

    /// <summary>The command with this process's environment and working directory, as a child process inherits them.</summary>
    private static StepCommand Command(string program, IEnumerable<string> args)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
            if (variable.Key is string name && variable.Value is string value) environment[name] = value;
        return new StepCommand(program, [.. args], Environment.CurrentDirectory, environment);
    }

    /// <summary>Bytes to a text writer as they come, a character split between two reads kept whole.</summary>
    private sealed class Utf8Writer(TextWriter writer)
    {
        private readonly System.Text.Decoder _decoder = System.Text.Encoding.UTF8.GetDecoder();

        public void Write(ReadOnlySpan<byte> data)
        {
            var chars = new char[System.Text.Encoding.UTF8.GetMaxCharCount(data.Length)];
            var count = _decoder.GetChars(data, chars, flush: false);
            Put(chars.AsSpan(0, count));
        }

        public void Complete()
        {
            var chars = new char[8];
            Put(chars.AsSpan(0, _decoder.GetChars([], chars, flush: true)));
        }

        private void Put(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty) return;
            // One command's stdout and stderr never write at once (StepProcess takes turns).
            writer.Write(text);
            writer.Flush();
        }
    }
}
