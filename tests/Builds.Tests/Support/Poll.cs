namespace Platform.Builds.Tests.Support;

/// <summary>Waits for outcomes with a generous deadline, never for time; and tells whether a process is gone.</summary>
public static class Poll
{
    public static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>True when no process <paramref name="pid"/> runs: gone, or a zombie waiting to be reaped.</summary>
    public static bool ProcessIsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return true;
        }
    }

    /// <summary>The pid written to <paramref name="path"/> by a step, once it is there.</summary>
    public static async Task<int> PidFile(string path)
    {
        await Until(() => File.Exists(path) && File.ReadAllText(path).EndsWith('\n'), $"the pid file {path}");
        return int.Parse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
