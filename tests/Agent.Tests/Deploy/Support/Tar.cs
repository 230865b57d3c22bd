using System.Diagnostics;
using System.Security.Cryptography;

namespace Platform.Agent.Tests.Deploy.Support;

/// <summary>Archives made by the real <c>tar</c>, and their digests.</summary>
internal static class Tar
{
    /// <summary>Runs <c>tar ARGS</c> in <paramref name="directory"/>; fails the test if tar fails.</summary>
    public static void Run(string directory, params string[] args)
    {
        var psi = new ProcessStartInfo("tar") { WorkingDirectory = directory, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"tar {string.Join(' ', args)} exited with {process.ExitCode}: {stderr}");
    }

    /// <summary>Writes <paramref name="files"/> (relative path → content) under a folder and archives its contents with <c>tar -czf</c> (or <c>-cf</c>).</summary>
    public static byte[] Create(string scratch, IReadOnlyDictionary<string, string> files, bool gzip = true)
    {
        var root = Path.Combine(scratch, "tree-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        var archive = root + (gzip ? ".tar.gz" : ".tar");
        Run(root, gzip ? "-czf" : "-cf", archive, ".");
        return File.ReadAllBytes(archive);
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
