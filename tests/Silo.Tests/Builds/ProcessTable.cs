namespace Platform.Silo.Tests.Builds;

/// <summary>What <c>/proc</c> says about processes a step started: a zombie waiting to be reaped counts as gone.</summary>
internal static class ProcessTable
{
    /// <summary>True while <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    /// <summary>The live (not zombie) processes whose process group is <paramref name="pgid"/>, as "pid comm".</summary>
    public static List<string> GroupMembers(int pgid)
    {
        var members = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } stat && stat.Pgrp == pgid && stat.State != 'Z')
                members.Add($"{pid} {stat.Comm}");
        return members;
    }

    /// <summary>Reads the pid's file of ids under the test's folder (the step writes it), or null until it is complete.</summary>
    public static int? ReadPid(string file)
    {
        try
        {
            var text = File.ReadAllText(file);
            return text.EndsWith('\n') && int.TryParse(text.Trim(), out var pid) ? pid : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static (string Comm, char State, int Pgrp)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so the fields start after the last ')'.
        var close = text.LastIndexOf(')');
        var fields = text[(close + 2)..].Split(' ');
        return (text[(text.IndexOf('(') + 1)..close], fields[0][0], int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture));
    }
}
