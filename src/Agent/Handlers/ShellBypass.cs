using System.Runtime.InteropServices;

namespace Platform.Agent.Handlers;

/// <summary>
/// When <c>/bin/sh -c SCRIPT</c> would only exec SCRIPT, the agent execs it itself, with the environment the shell
/// would have passed on: a handler's process is the same as under Serf, one <c>execve</c> sooner (about 3 ms of CPU on
/// a small VM, a third of a short handler's cost, paid by every agent at once on a member event). That holds for
/// dash, which execs a lone simple command of a <c>-c</c> string in place; with another <c>/bin/sh</c> nothing is bypassed.
/// </summary>
public static class ShellBypass
{
    private static readonly bool s_shellIsDash = ShellIsDash();

    /// <summary>
    /// The program to exec in place of the shell, or null when the script needs the shell: it must be one word with a
    /// slash (dash then execs it without a PATH search) made only of characters the shell takes literally: no
    /// quoting, expansion, globbing, assignment, redirection or separator can be in it.
    /// </summary>
    public static string? Program(string script) => s_shellIsDash ? PlainPath(script) : null;

    /// <summary><see cref="Program"/> for a shell that execs a lone command, whichever <c>/bin/sh</c> is.</summary>
    internal static string? PlainPath(string script)
    {
        if (script.Length == 0 || !script.Contains('/')) return null;
        foreach (var c in script)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ',' or ':' or '@' or '%')) return null;
        return script;
    }

    /// <summary>
    /// The environment dash passes to what it execs, given the one it was started with: variables whose names are not
    /// shell names dropped, and <c>PWD</c> exported, kept when it names the working directory by an absolute path, else set to it.
    /// </summary>
    public static Dictionary<string, string> Environment(IReadOnlyDictionary<string, string> started)
    {
        var passed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in started)
            if (IsShellName(name)) passed[name] = value;
        var cwd = Directory.GetCurrentDirectory();
        if (!passed.TryGetValue("PWD", out var pwd) || !pwd.StartsWith('/') || !SameDirectory(pwd, cwd)) passed["PWD"] = cwd;
        return passed;
    }

    private static bool IsShellName(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_')) return false;
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    /// <summary>Dash compares device and inode; the physical paths are the same test.</summary>
    private static bool SameDirectory(string path, string cwd)
    {
        var resolved = RealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return false;
        try
        {
            return Marshal.PtrToStringUTF8(resolved) == cwd;
        }
        finally
        {
            Free(resolved);
        }
    }

    private static bool ShellIsDash()
    {
        try
        {
            return OperatingSystem.IsLinux()
                && new FileInfo("/bin/sh").ResolveLinkTarget(returnFinalTarget: true) is { } target
                && Path.GetFileName(target.FullName) == "dash";
        }
        catch (IOException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr RealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr pointer);
}
