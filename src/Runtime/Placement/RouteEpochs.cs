using System.Runtime.InteropServices;

namespace Platform.Runtime.Placement;

/// <summary>
/// A grace period for routing: lets a silo wait until every call that may have been routed under an older view
/// was handed to the transport. A sender enters before it reads the owner and exits once the frame is queued;
/// <see cref="DrainAsync"/>, called after a new view is installed, moves to a new epoch and waits until the
/// senders of the old one exited. Without it, a sender that read the old owner and was then preempted could queue
/// its frame to a leaving silo after this silo had confirmed it routes nothing more there (the frame would meet a
/// closed connection). Entering costs two interlocked adds, taken only by calls that leave the silo.
/// </summary>
internal sealed class RouteEpochs
{
    // The two epochs' counters on separate cache lines: senders of one epoch do not slow a drain reading the other.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Counters
    {
        [FieldOffset(64)] public long Even;
        [FieldOffset(128)] public long Odd;
    }

    private Counters _counters;
    private int _epoch;
    private readonly SemaphoreSlim _drains = new(1, 1);

    /// <summary>Enters the current epoch; pass the result to <see cref="Exit"/>. Read the owner only after this.</summary>
    public int Enter()
    {
        while (true)
        {
            var epoch = Volatile.Read(ref _epoch);
            ref var count = ref Count(epoch);
            Interlocked.Increment(ref count);
            // A drain that moved on before the increment did not count this sender: enter the new epoch instead,
            // whose senders read the view that drain was called after.
            if (Volatile.Read(ref _epoch) == epoch) return epoch;
            Interlocked.Decrement(ref count);
        }
    }

    public void Exit(int epoch) => Interlocked.Decrement(ref Count(epoch));

    /// <summary>Senders in an epoch (tests).</summary>
    internal long InFlight(int epoch) => Volatile.Read(ref Count(epoch));

    /// <summary>Returns once every sender that entered before this call has exited.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        // One drain at a time: each one waits out the epoch before it, so the counter it leaves behind is empty
        // when the epoch after next reuses it.
        await _drains.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var old = Interlocked.Increment(ref _epoch) - 1;
            // A sender holds its epoch only between reading an owner and queuing a frame (microseconds unless preempted).
            while (Volatile.Read(ref Count(old)) != 0) await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _drains.Release();
        }
    }

    private ref long Count(int epoch) => ref (epoch & 1) == 0 ? ref _counters.Even : ref _counters.Odd;
}
