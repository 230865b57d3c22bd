namespace Platform.Runtime.Membership;

/// <summary>Lifecycle of a silo in the membership table.</summary>
public enum SiloStatus
{
    None = 0,
    Joining = 1,
    Active = 2,
    ShuttingDown = 3,
    Dead = 4,
}

/// <summary>One silo's suspicion of another, with when it was raised.</summary>
public sealed record SuspectVote(SiloAddress Suspecter, DateTimeOffset Time);

/// <summary>A silo's row in the membership table.</summary>
public sealed record MembershipEntry(
    SiloAddress Silo,
    string SiloName,
    SiloStatus Status,
    string? HttpUrl,
    DateTimeOffset StartTime,
    DateTimeOffset IAmAliveTime,
    IReadOnlyList<SuspectVote> Suspicions);

/// <summary>The table version: a counter bumped by every membership change, guarded by its own ETag.</summary>
public sealed record TableVersion(int Version, string ETag)
{
    /// <summary>The version a writer proposes next (same ETag: the CAS checks it is still current).</summary>
    public TableVersion Next() => new(Version + 1, ETag);
}

/// <summary>A consistent read of the whole table: every row with its ETag, and the table version.</summary>
public sealed record MembershipTableSnapshot(IReadOnlyList<(MembershipEntry Entry, string ETag)> Rows, TableVersion Version);
