using System.Diagnostics;

namespace Platform.Silo.Tests.Support;

/// <summary>
/// A small tmpfs mounted on a directory (as root, or through passwordless sudo), so that a test can fill it up and free
/// it again. Unmounted on dispose; whatever runs on it must have stopped by then.
/// </summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private readonly string _path;

    private SmallDisk(string path) => _path = path;

    public static async Task<SmallDisk> MountAsync(string path, int megabytes)
    {
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Writes a file until the disk is full; returns its path (delete it to free the space).</summary>
    public string Fill()
    {
        var filler = Path.Combine(_path, "filler");
        var chunk = new byte[64 * 1024];
        using var stream = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            while (true) stream.Write(chunk);
        }
        catch (IOException)
        {
            // No space left: what was written stays.
        }
        return filler;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("umount", _path);
        }
        catch (InvalidOperationException)
        {
            // Still busy (a process that has not quite exited): detach now, freed when the last file closes.
            await RunAsync("umount", "-l", _path);
        }
    }

    private static async Task RunAsync(string command, params string[] arguments)
    {
        var root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? command : "sudo") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (!root)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(command);
        }
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{command} {string.Join(' ', arguments)}' exited with {process.ExitCode}: {await error}" +
                (root ? "" : " (mounting a small disk needs root or passwordless sudo)"));
    }
}
