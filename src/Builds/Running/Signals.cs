using System.Runtime.InteropServices;

namespace Platform.Builds.Running;

/// <summary>POSIX signals sent to a step's process group (.NET's Process can neither make nor signal one).</summary>
internal static partial class Signals
{
    public const int Term = 15;
    public const int Kill = 9;

    /// <summary>Signal 0: nothing is sent, only whether any process of the group is left is checked.</summary>
    public const int Probe = 0;

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="groupId"/>; false when none is left.</summary>
    public static bool ToGroup(int groupId, int signal) => groupId > 1 && SendKill(-groupId, signal) == 0;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendKill(int pid, int signal);
}
