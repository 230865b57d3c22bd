namespace Platform.Grains.Keys;

/// <summary>
/// What the completion handlers on a wake thread may leave to the end of the chunk of watches it is completing: a
/// front end whose handlers each start a send can then hand the kernel the whole chunk's sends in one call.
/// </summary>
public interface IWakeBatch : IDisposable
{
    /// <summary>Does what the handlers left, on the wake thread, after each chunk.</summary>
    void Flush();
}

/// <summary>The wake threads' batches: one per thread, made by <see cref="Factory"/> on the thread's first chunk.</summary>
public static class WakeBatch
{
    /// <summary>
    /// Makes a wake thread's batch (null: none). Process-wide, as the wake threads are; set at start-up by the front
    /// end whose handlers use it. A thread makes a new batch (and disposes its old one) when the factory changed.
    /// </summary>
    public static Func<IWakeBatch?>? Factory { get; set; }

    [ThreadStatic] private static Func<IWakeBatch?>? t_factory;
    [ThreadStatic] private static IWakeBatch? t_batch;
    [ThreadStatic] private static IWakeBatch? t_current;

    /// <summary>The batch of the chunk this thread is completing; null on any other thread, or between chunks.</summary>
    public static IWakeBatch? Current => t_current;

    /// <summary>
    /// A chunk starts on this wake thread: handlers see its batch until <see cref="Close"/>. Never throws, so the
    /// chunk's watches are completed whatever happens here: a factory (or an old batch's disposal) that fails leaves
    /// the thread without a batch, and the failure is returned for the caller to log.
    /// </summary>
    internal static Exception? Open()
    {
        Exception? failure = null;
        var factory = Factory;
        if (!ReferenceEquals(factory, t_factory))
        {
            t_factory = factory;
            var old = t_batch;
            t_batch = null;
            try
            {
                old?.Dispose();
                t_batch = factory?.Invoke();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        t_current = t_batch;
        return failure;
    }

    /// <summary>The chunk is done: its batch is flushed.</summary>
    internal static void Close()
    {
        var batch = t_current;
        t_current = null;
        batch?.Flush();
    }
}
