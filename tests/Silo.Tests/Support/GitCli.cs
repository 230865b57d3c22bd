using System.Diagnostics;

namespace Platform.Silo.Tests.Support;

/// <summary>The real <c>git</c>, run for tests that build repositories for agents to check out.</summary>
public static class GitCli
{
    /// <summary>Runs <c>git</c> in <paramref name="directory"/>; fails the test naming the command when it exits non-zero; answers its standard output.</summary>
    public static string Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEndAsync();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Result;
    }
}
