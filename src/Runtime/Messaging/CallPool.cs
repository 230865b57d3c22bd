namespace Platform.Runtime.Messaging;

/// <summary>
/// Per-call objects kept for reuse, so that a queued call allocates none of its bookkeeping: one at hand per
/// thread, then a bounded shared stack. Past the bound, released objects are left to the GC.
/// </summary>
internal static class CallPool<T> where T : class
{
    private const int SharedCapacity = 4096;

    [ThreadStatic] private static T? t_local;

    private static readonly T?[] s_shared = new T?[SharedCapacity];
    private static readonly Lock s_lock = new();
    private static int s_count;

    public static T? TryTake()
    {
        var local = t_local;
        if (local is not null)
        {
            t_local = null;
            return local;
        }
        if (Volatile.Read(ref s_count) == 0) return null;
        lock (s_lock)
        {
            if (s_count == 0) return null;
            var taken = s_shared[--s_count];
            s_shared[s_count] = null;
            return taken;
        }
    }

    public static void Return(T item)
    {
        if (t_local is null)
        {
            t_local = item;
            return;
        }
        lock (s_lock)
        {
            if (s_count < SharedCapacity) s_shared[s_count++] = item;
        }
    }
}
