using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>A membership table that passes calls through until <see cref="Failing"/> is set, then throws as an unreachable database would.</summary>
public sealed class FailingMembershipTable(IMembershipTable inner) : IMembershipTable
{
    private volatile bool _failing;

    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => Pass(() => inner.InitializeAsync(cancellationToken));

    public Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default) => Pass(() => inner.ReadAllAsync(cancellationToken));

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion newVersion, CancellationToken cancellationToken = default) =>
        Pass(() => inner.InsertRowAsync(entry, newVersion, cancellationToken));

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion newVersion, CancellationToken cancellationToken = default) =>
        Pass(() => inner.UpdateRowAsync(entry, etag, newVersion, cancellationToken));

    public Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset iAmAliveTime, CancellationToken cancellationToken = default) =>
        Pass(() => inner.UpdateIAmAliveAsync(silo, iAmAliveTime, cancellationToken));

    public Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default) =>
        Pass(() => inner.CleanupDefunctEntriesAsync(olderThan, cancellationToken));

    private Task Pass(Func<Task> call) => _failing ? Task.FromException(Unreachable()) : call();

    private Task<TResult> Pass<TResult>(Func<Task<TResult>> call) => _failing ? Task.FromException<TResult>(Unreachable()) : call();

    private static IOException Unreachable() => new("membership table unreachable (test)");
}
