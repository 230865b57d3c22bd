using System.Diagnostics;

namespace Platform.Builds.Tests.Support;

/// <summary>
/// A real git repository made for a test: a work tree on branch main whose commits are pushed to a bare repository,
/// which jobs fetch over a file:// URL as an agent fetches a remote. Removed at dispose.
/// </summary>
public sealed class TestRepository : IDisposable
{
    public TestRepository()
    {
        Directory.CreateDirectory(Work);
        Git(Root, "init", "--quiet", "--bare", "--initial-branch=main", Bare);
        Git(Root, "init", "--quiet", "--initial-branch=main", Work);
        Git(Work, "config", "user.name", "Platform Tests");
        Git(Work, "config", "user.email", "tests@platform.invalid");
        Git(Work, "remote", "add", "origin", Bare);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "platform-repo-" + Guid.NewGuid().ToString("N"));

    public string Work => Path.Combine(Root, "work");

    public string Bare => Path.Combine(Root, "remote.git");

    public string Url => "file://" + Bare;

    /// <summary>A scratch folder beside the repositories (pid files, gates), removed with them.</summary>
    public string Scratch
    {
        get
        {
            var path = Path.Combine(Root, "scratch");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>Writes a file of the work tree; an executable one gets mode 755 (git keeps it).</summary>
    public TestRepository Write(string path, string content, bool executable = false)
    {
        var full = Path.Combine(Work, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        if (executable && !OperatingSystem.IsWindows()) File.SetUnixFileMode(full, (UnixFileMode)0b111_101_101);
        return this;
    }

    /// <summary>A shell script of the repository: <c>#!/bin/sh</c> and <paramref name="body"/>, executable.</summary>
    public TestRepository Script(string path, string body) => Write(path, "#!/bin/sh\n" + body + "\n", executable: true);

    /// <summary>Commits everything and pushes it to the bare remote's main; returns the commit id.</summary>
    public string Commit(string message = "change")
    {
        Git(Work, "add", "--all");
        Git(Work, "commit", "--quiet", "--allow-empty", "-m", message);
        Git(Work, "push", "--quiet", "origin", "HEAD:refs/heads/main");
        return Git(Work, "rev-parse", "HEAD").Trim();
    }

    public static string Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({process.ExitCode}): {error}");
        return output.Result;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
