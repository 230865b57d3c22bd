namespace Platform.Agent.Tests.Checks;

/// <summary>Polls for a condition with a deadline, for things a test can only observe from outside (files, processes).</summary>
public static class Eventually
{
    public static async Task True(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within 20 s");
            await Task.Delay(10);
        }
    }

    /// <summary>True when no process <paramref name="pid"/> runs: gone, or a zombie waiting for its parent to reap it.</summary>
    public static bool ProcessIsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the command name in parentheses: "123 (sleep) Z ...".
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return true;
        }
    }
}
