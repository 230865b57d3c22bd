using System.Diagnostics;

namespace Platform.Builds.Tests.Support;

/// <summary>
/// A local container image made from Debian's busybox-static and <c>podman import</c>ed (nothing is pulled), with the
/// engine configured as this machine needs it: runc, and default ulimits a container may raise to
/// (<c>CONTAINERS_CONF</c> pointing at a containers.conf written here).
/// </summary>
public static class BusyboxImage
{
    public const string Name = "localhost/platform-test-busybox:1";

    private const string Busybox = "/bin/busybox";
    private static readonly Lazy<Task> s_imported = new(ImportAsync);

    /// <summary>Why container tests cannot run here, or null (test.sh installs podman and busybox-static).</summary>
    public static string? Unavailable =>
        Podman is null ? "podman is not installed (test.sh installs it: apt-get install podman busybox-static)"
        : !File.Exists(Busybox) ? "busybox-static is not installed (/bin/busybox is missing; test.sh installs it)"
        : null;

    public static string? Podman { get; } = new[] { "/usr/bin/podman", "/usr/local/bin/podman" }.FirstOrDefault(File.Exists);

    /// <summary>The containers.conf the engine runs with, beside the tests (so no temporary file outlives them).</summary>
    public static string ContainersConf { get; } = Path.Combine(AppContext.BaseDirectory, "containers.conf");

    /// <summary>The engine's own environment for the tests.</summary>
    public static Dictionary<string, string> EngineEnvironment => new() { ["CONTAINERS_CONF"] = ContainersConf };

    /// <summary>Makes the image once per test process.</summary>
    public static Task EnsureAsync() => s_imported.Value;

    private static async Task ImportAsync()
    {
        File.WriteAllText(ContainersConf, """
            [engine]
            runtime = "runc"

            [containers]
            default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
            """);
        var root = Path.Combine(Path.GetTempPath(), "platform-busybox-" + Guid.NewGuid().ToString("N"));
        try
        {
            var bin = Path.Combine(root, "rootfs", "bin");
            Directory.CreateDirectory(bin);
            Directory.CreateDirectory(Path.Combine(root, "rootfs", "tmp"));
            File.Copy(Busybox, Path.Combine(bin, "busybox"));
            var applets = await RunAsync(Busybox, "--list");
            foreach (var applet in applets.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (applet != "busybox") File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
            var tar = Path.Combine(root, "rootfs.tar");
            await RunAsync("tar", "-C", Path.Combine(root, "rootfs"), "-cf", tar, ".");
            string? previous = null;
            try { previous = (await RunAsync(Podman!, "image", "inspect", "--format", "{{.Id}}", Name)).Trim(); }
            catch (InvalidOperationException) { /* the first run on this machine */ }
            var imported = (await RunAsync(Podman!, "import", "--quiet", tar, Name)).Trim();
            // The image of an earlier run would stay behind untagged: it goes.
            if (previous is { Length: > 0 } && !imported.EndsWith(previous, StringComparison.Ordinal)) await RunAsync(Podman!, "rmi", previous);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Runs a command to its end with the engine's environment; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CONTAINERS_CONF"] = ContainersConf;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error}");
        return await output;
    }

    /// <summary>Whether a container of that name exists (running or not).</summary>
    public static bool ContainerExists(string name)
    {
        var start = new ProcessStartInfo(Podman!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "container", "exists", name }) start.ArgumentList.Add(arg);
        start.Environment["CONTAINERS_CONF"] = ContainersConf;
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}

/// <summary>A test that needs podman and busybox-static; skipped, saying which is missing, where they are not installed.</summary>
public sealed class PodmanFactAttribute : FactAttribute
{
    public PodmanFactAttribute()
    {
        if (BusyboxImage.Unavailable is { } reason) Skip = reason;
    }
}
