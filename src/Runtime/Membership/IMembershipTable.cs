namespace Platform.Runtime.Membership;

/// <summary>
/// The versioned membership table of one cluster, the engine of agreement (as in Orleans).
/// Every change is a compare-and-swap on two things at once: the row's ETag and the table
/// version's ETag, and it installs <c>newVersion</c> (= read version + 1). Only I-am-alive
/// updates skip the version.
/// </summary>
public interface IMembershipTable
{
    /// <summary>Creates the schema (idempotent) and this cluster's version row if missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>All rows of this cluster and the table version, read consistently.</summary>
    Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts a row; false if a row for that silo exists or the table version moved since it was read.</summary>
    Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion newVersion, CancellationToken cancellationToken = default);

    /// <summary>Replaces a row; false if the row's ETag is not <paramref name="etag"/> or the table version moved.</summary>
    Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion newVersion, CancellationToken cancellationToken = default);

    /// <summary>Writes only the row's I-am-alive time (no version change, no ETag check).</summary>
    Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset iAmAliveTime, CancellationToken cancellationToken = default);

    /// <summary>Deletes Dead rows whose I-am-alive time is older than <paramref name="olderThan"/>; returns how many.</summary>
    Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default);
}
