using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.Support;

/// <summary>
/// A silo's view of a shared membership table whose reads arrive late while <see cref="ReadDelay"/> is set: the
/// silo learns of changes long after they were written, as a silo starved of CPU or far from its database does.
/// </summary>
public sealed class SlowReadsTable(IMembershipTable inner) : IMembershipTable
{
    private long _delayTicks;

    public TimeSpan ReadDelay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _delayTicks));
        set => Volatile.Write(ref _delayTicks, value.Ticks);
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        // Read first, deliver late: what arrives is the table as it was when the read began.
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
