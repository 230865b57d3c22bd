namespace Platform.Agent.Deploy;

/// <summary>File modes for the deploy, which runs on Unix only (tar, rsync, sh).</summary>
internal static class UnixMode
{
    public static void Set(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("deploys need a Unix system (tar modes, rsync, /bin/sh)");
        File.SetUnixFileMode(path, mode);
    }

    public static UnixFileMode Get(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("deploys need a Unix system (tar modes, rsync, /bin/sh)");
        return File.GetUnixFileMode(path);
    }
}
