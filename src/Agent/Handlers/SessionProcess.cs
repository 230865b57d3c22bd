using System.ComponentModel;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Platform.Agent.Handlers;

/// <summary>
/// A program started by <c>posix_spawn</c> as the leader of a session of its own (so its whole process group can be
/// killed), its standard input one pipe and its stdout and stderr together another, as Serf joins them. One
/// <c>execve</c> per start: .NET's <see cref="System.Diagnostics.Process"/> can neither make a session nor give two
/// streams one pipe, and doing both through <c>setsid</c> and a shell cost two more, about 5 ms of CPU each here, which
/// is what 49 agents starting a <c>member-failed</c> handler at once wait for on a small machine.
/// </summary>
internal sealed class SessionProcess : IDisposable
{
    private const int SigKill = 9;
    private const int SigPipe = 13;
    private const int EIntr = 4;
    private const int OCloExec = 0x80000;
    private const short SpawnSetSigDef = 0x04;
    private const short SpawnSetSigMask = 0x08;
    private const short SpawnSetSid = 0x80;

    // glibc's sizes on 64-bit Linux are 80, 336 and 128 bytes; room to spare costs nothing.
    private const int FileActionsSize = 256;
    private const int AttributesSize = 1024;
    private const int SigSetSize = 256;

    private SessionProcess(int pid, Stream input, Stream output, Task<int> exited)
    {
        Pid = pid;
        Input = input;
        Output = output;
        Exited = exited;
    }

    /// <summary>The process id, which is also its session's and process group's.</summary>
    public int Pid { get; }

    /// <summary>Its standard input; close it to give the program end of file.</summary>
    public Stream Input { get; }

    /// <summary>Its standard output and error, interleaved as written.</summary>
    public Stream Output { get; }

    /// <summary>Its exit status as .NET reports one: the exit code, or 128 plus the signal that ended it.</summary>
    public Task<int> Exited { get; }

    /// <summary>This process's environment with <paramref name="overrides"/> over it: what a child gets by default.</summary>
    public static Dictionary<string, string> Inherited(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        foreach (var (name, value) in overrides) variables[name] = value;
        return variables;
    }

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="argv"/> (its first item is the program's own name) and
    /// exactly <paramref name="variables"/> as its environment. Throws <see cref="Win32Exception"/> when it cannot be
    /// started, the exec's own error included (ENOENT, EACCES, ENOEXEC).
    /// </summary>
    public static SessionProcess Start(string path, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> variables)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("handlers run on Linux (posix_spawn with POSIX_SPAWN_SETSID)");

        var strings = new List<IntPtr>();
        var fileActions = Marshal.AllocHGlobal(FileActionsSize);
        var attributes = Marshal.AllocHGlobal(AttributesSize);
        var signals = Marshal.AllocHGlobal(SigSetSize);
        int[] stdin = [-1, -1], output = [-1, -1];
        try
        {
            Check(Pipe2(stdin, OCloExec), "pipe2");
            Check(Pipe2(output, OCloExec), "pipe2");
            Check(FileActionsInit(fileActions), "posix_spawn_file_actions_init");
            try
            {
                Check(AttributesInit(attributes), "posix_spawnattr_init");
                try
                {
                    // dup2 clears close-on-exec on the copy only: the pipes' own ends close at the exec.
                    CheckResult(FileActionsAddDup2(fileActions, stdin[0], 0), "posix_spawn_file_actions_adddup2");
                    CheckResult(FileActionsAddDup2(fileActions, output[1], 1), "posix_spawn_file_actions_adddup2");
                    CheckResult(FileActionsAddDup2(fileActions, output[1], 2), "posix_spawn_file_actions_adddup2");
                    // The runtime ignores SIGPIPE; an exec keeps ignored signals ignored, and a handler must get the
                    // default, as .NET's own Process and Go's os/exec (Serf) give it. Caught ones reset at the exec.
                    Check(SigEmptySet(signals), "sigemptyset");
                    CheckResult(AttributesSetSigMask(attributes, signals), "posix_spawnattr_setsigmask");
                    Check(SigAddSet(signals, SigPipe), "sigaddset");
                    CheckResult(AttributesSetSigDefault(attributes, signals), "posix_spawnattr_setsigdefault");
                    CheckResult(AttributesSetFlags(attributes, SpawnSetSid | SpawnSetSigDef | SpawnSetSigMask), "posix_spawnattr_setflags");

                    var argvPointers = new IntPtr[argv.Count + 1];
                    for (var i = 0; i < argv.Count; i++) strings.Add(argvPointers[i] = Marshal.StringToCoTaskMemUTF8(argv[i]));
                    var envPointers = new IntPtr[variables.Count + 1];
                    var n = 0;
                    foreach (var (name, value) in variables) strings.Add(envPointers[n++] = Marshal.StringToCoTaskMemUTF8(name + "=" + value));

                    var error = Spawn(out var pid, path, fileActions, attributes, argvPointers, envPointers);
                    if (error != 0) throw new SpawnException(error, $"{path}: {new Win32Exception(error).Message}");
                    Close(ref stdin[0]);
                    Close(ref output[1]);
                    var input = new AnonymousPipeClientStream(PipeDirection.Out, new SafePipeHandle(stdin[1], ownsHandle: true));
                    stdin[1] = -1;
                    var reader = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(output[0], ownsHandle: true));
                    output[0] = -1;
                    return new SessionProcess(pid, input, reader, WaitForExit(pid));
                }
                finally
                {
                    _ = AttributesDestroy(attributes);
                }
            }
            finally
            {
                _ = FileActionsDestroy(fileActions);
            }
        }
        finally
        {
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
            Marshal.FreeHGlobal(fileActions);
            Marshal.FreeHGlobal(attributes);
            Marshal.FreeHGlobal(signals);
            foreach (var fd in (int[])[stdin[0], stdin[1], output[0], output[1]]) if (fd >= 0) _ = CloseFd(fd);
        }
    }

    /// <summary>Sends SIGKILL to the whole process group: the program and whatever it started and did not move elsewhere.</summary>
    public void KillGroup()
    {
        _ = Kill(-Pid, SigKill);
        _ = Kill(Pid, SigKill);
    }

    public void Dispose()
    {
        Input.Dispose();
        Output.Dispose();
    }

    /// <summary>
    /// Reaps the child on a thread of its own, blocked in <c>waitpid</c> (the runtime's SIGCHLD handling reaps only
    /// the children it started). A thread costs far less than the exec it waits for, and handlers run a bounded few at once.
    /// </summary>
    private static Task<int> WaitForExit(int pid)
    {
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            int result, status;
            while ((result = WaitPid(pid, out status, 0)) < 0 && Marshal.GetLastPInvokeError() == EIntr)
            {
            }
            if (result < 0)
            {
                exited.SetException(new Win32Exception(Marshal.GetLastPInvokeError(), $"waitpid({pid}) failed"));
                return;
            }
            var signal = status & 0x7f;
            exited.SetResult(signal == 0 ? (status >> 8) & 0xff : 128 + signal);
        }, maxStackSize: 128 * 1024)
        { IsBackground = true, Name = "handler exit" };
        thread.Start();
        return exited.Task;
    }

    private static void Close(ref int fd)
    {
        _ = CloseFd(fd);
        fd = -1;
    }

    private static void Check(int result, string call)
    {
        if (result != 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{call} failed");
    }

    private static void CheckResult(int error, string call)
    {
        if (error != 0) throw new Win32Exception(error, $"{call} failed");
    }

    [DllImport("libc", EntryPoint = "posix_spawn", SetLastError = false)]
    private static extern int Spawn(out int pid, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr fileActions, IntPtr attributes, IntPtr[] argv, IntPtr[] envp);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static extern int FileActionsInit(IntPtr fileActions);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static extern int FileActionsDestroy(IntPtr fileActions);

    [DllImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static extern int FileActionsAddDup2(IntPtr fileActions, int fd, int newFd);

    [DllImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static extern int AttributesInit(IntPtr attributes);

    [DllImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static extern int AttributesDestroy(IntPtr attributes);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static extern int AttributesSetFlags(IntPtr attributes, short flags);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static extern int AttributesSetSigMask(IntPtr attributes, IntPtr signals);

    [DllImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static extern int AttributesSetSigDefault(IntPtr attributes, IntPtr signals);

    [DllImport("libc", EntryPoint = "sigemptyset", SetLastError = true)]
    private static extern int SigEmptySet(IntPtr signals);

    [DllImport("libc", EntryPoint = "sigaddset", SetLastError = true)]
    private static extern int SigAddSet(IntPtr signals, int signal);

    [DllImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static extern int Pipe2([Out] int[] fds, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseFd(int fd);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static extern int WaitPid(int pid, out int status, int options);
}

/// <summary><c>posix_spawn</c> refused the program: <see cref="Win32Exception.NativeErrorCode"/> is the exec's errno.</summary>
internal sealed class SpawnException(int error, string message) : Win32Exception(error, message);
