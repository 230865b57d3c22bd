using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>Runs one manifest command line as Stretcher does, with <c>sh -c LINE</c>, and other programs (tar, rsync) the deploy needs.</summary>
public static class ShellCommand
{
    private const string Shell = "/bin/sh";

    /// <summary>Runs <paramref name="line"/>; its output joins the log. Returns the exit code.</summary>
    public static Task<int> RunAsync(string line, DeployLog log, CancellationToken cancellationToken)
        => RunProgramAsync(Shell, ["-c", line], log, cancellationToken);

    /// <summary>Runs <paramref name="line"/> with <paramref name="stdin"/> on its standard input and its output passed through to ours, as for success and failure commands.</summary>
    public static async Task<int> RunPipedAsync(string line, byte[] stdin, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Shell)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(line);
        using var process = Start(start, line);
        var copyOut = PassThroughAsync(process.StandardOutput, output);
        var copyErr = PassThroughAsync(process.StandardError, error);
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The command did not read its standard input to the end: allowed, as with a pipe.
        }
        finally
        {
            try { process.StandardInput.Close(); }
            catch (IOException) { }
        }
        await WaitAsync(process, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(copyOut, copyErr).ConfigureAwait(false);
        return process.ExitCode;
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; stdout and stderr go to the log when it ends.</summary>
    public static async Task<int> RunProgramAsync(string program, IEnumerable<string> args, DeployLog log, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Start(start, program);
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = CollectAsync(process.StandardOutput, output);
        var stderr = CollectAsync(process.StandardError, output);
        await WaitAsync(process, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        if (output.Length > 0) log.Line(output.ToString());
        return process.ExitCode;
    }

    private static Process Start(ProcessStartInfo start, string what)
    {
        try
        {
            return Process.Start(start) ?? throw new DeployException($"cannot start {what}");
        }
        catch (Win32Exception e)
        {
            throw new DeployException($"cannot start {start.FileName} for '{what}': {e.Message}", e);
        }
    }

    private static async Task WaitAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task CollectAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            lock (into) into.Append(buffer, 0, n);
    }

    private static async Task PassThroughAsync(StreamReader reader, TextWriter writer)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            await writer.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
        }
    }
}
