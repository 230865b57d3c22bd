using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Platform.Builds.Running;

/// <summary>Runs the real <c>git</c> with prompts off and only the transports a build may fetch over.</summary>
internal static class GitCommand
{
    /// <summary>
    /// Transports a repository URL may use: <c>ext::</c> and other helpers would let a URL run commands on the agent.
    /// </summary>
    public const string AllowedProtocols = "file:git:http:https:ssh";

    /// <summary>Runs <c>git ARGS</c> in <paramref name="directory"/>; returns the exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string? directory, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (directory is not null) start.WorkingDirectory = directory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ALLOW_PROTOCOL"] = AllowedProtocols;
        start.Environment["LC_ALL"] = "C";
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new JobFailedException($"git cannot be started ({e.Message}); the agent needs git on its PATH", e);
        }
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
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
        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Git's error text on one line, for a job's error.</summary>
    public static string OneLine(string text)
    {
        var builder = new StringBuilder();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (builder.Length > 0) builder.Append("; ");
            builder.Append(line);
        }
        return builder.ToString();
    }
}
