using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Platform.Grains.Keys;

/// <summary>Work a wake thread helps with: each thread it is posted to calls <see cref="Help"/> once.</summary>
internal interface IWakeWork
{
    void Help();
}

/// <summary>
/// The threads that complete woken watches: one per core, shared by every hub in the process, below normal priority
/// (nice <see cref="Nice"/> on Linux). A fan-out to a thousand watchers is a burst of socket writes. On the thread
/// pool, the workers it woke took the cores from the thread that had just committed the write, which then waited out
/// a scheduler tick (about 4 ms) before it could answer the writer. At a lower priority the kernel runs the writer's
/// reply, grain turns and pings first and the fan-out on what is left, which is all of it while nothing else runs.
/// </summary>
internal static class WakeThreads
{
    /// <summary>
    /// The threads' nice value: a weight of 335 against a normal thread's 1024, so a normal thread that wakes takes
    /// the core at once, and a busy pool still leaves the fan-out about a quarter of each core it shares.
    /// </summary>
    public const int Nice = 5;

    public static int Count { get; } = Environment.ProcessorCount;

    private static readonly ConcurrentQueue<IWakeWork> s_work = new();
    private static readonly SemaphoreSlim s_posted = new(0);
    private static int s_started;

    /// <summary>Has <paramref name="threads"/> wake threads (at most <see cref="Count"/>) help with <paramref name="work"/>.</summary>
    public static void Post(IWakeWork work, int threads)
    {
        threads = Math.Clamp(threads, 1, Count);
        if (Volatile.Read(ref s_started) == 0) Start();
        for (var i = 0; i < threads; i++) s_work.Enqueue(work);
        s_posted.Release(threads);
    }

    private static void Start()
    {
        if (Interlocked.Exchange(ref s_started, 1) != 0) return;
        for (var i = 0; i < Count; i++) new Thread(Run) { IsBackground = true, Name = "key-wake" }.Start();
    }

    private static void Run()
    {
        LowerPriority();
        while (true)
        {
            // One count per queued entry, released after it was queued: the entry is there.
            s_posted.Wait();
            if (s_work.TryDequeue(out var work)) work.Help();
        }
    }

    /// <summary>
    /// Lowers this thread's priority where the kernel lets a thread do so for itself (Linux: a thread is a task, and
    /// any task may raise its own nice value). Elsewhere, or if refused, the fan-out runs at normal priority.
    /// </summary>
    private static void LowerPriority()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = setpriority(PrioProcess, gettid(), Nice);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    private const int PrioProcess = 0;

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int gettid();
}
