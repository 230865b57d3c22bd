using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.Support;

/// <summary>
/// A silo's view of a shared membership table whose reads arrive late: by <see cref="ReadDelay"/>, as for a silo
/// starved of CPU or far from its database, or held until <see cref="Release"/> while <see cref="Hold"/> is in force,
/// so that a test can stop a silo at the exact point where it reads the table (<see cref="WaitingReads"/> says how
/// many reads wait) and let it go once it has set up the rest.
/// </summary>
public sealed class SlowReadsTable(IMembershipTable inner) : IMembershipTable
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _gate;
    private int _waiting;
    private long _delayTicks;

    public TimeSpan ReadDelay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _delayTicks));
        set => Volatile.Write(ref _delayTicks, value.Ticks);
    }

    public int WaitingReads => Volatile.Read(ref _waiting);

    public void Hold()
    {
        lock (_lock) _gate ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release()
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            gate = _gate;
            _gate = null;
        }
        gate?.TrySetResult();
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        Task? gate;
        lock (_lock) gate = _gate?.Task;
        if (gate is not null)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        // Read first, deliver late: what arrives is the table as it was when the read began (after a hold: when the
        // silo was let go).
        var snapshot = await inner.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        if (ReadDelay > TimeSpan.Zero) await Task.Delay(ReadDelay, cancellationToken).ConfigureAwait(false);
        return snapshot;
    }

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion newVersion, CancellationToken cancellationToken = default)
        => inner.InsertRowAsync(entry, newVersion, cancellationToken);

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion newVersion, CancellationToken cancellationToken = default)
        => inner.UpdateRowAsync(entry, etag, newVersion, cancellationToken);

    public Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset iAmAliveTime, CancellationToken cancellationToken = default)
        => inner.UpdateIAmAliveAsync(silo, iAmAliveTime, cancellationToken);

    public Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default)
        => inner.CleanupDefunctEntriesAsync(olderThan, cancellationToken);
}
