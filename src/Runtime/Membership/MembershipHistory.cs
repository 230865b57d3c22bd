namespace Platform.Runtime.Membership;

/// <summary>
/// One change of the membership table as a silo saw it: <paramref name="Change"/> is <c>joined</c>, <c>active</c>,
/// <c>suspected</c>, <c>shutting-down</c> or <c>dead</c>; <paramref name="By"/> the silo whose vote it was (suspected,
/// dead), if any.
/// </summary>
public sealed record MembershipChange(DateTimeOffset Time, int Version, string Silo, string Name, string Change, string? By);

/// <summary>
/// The membership table's recent history (the last <c>capacity</c> changes): joins, status changes, suspicions and
/// deaths, taken from each view this silo installs. The first view seeds it from the rows themselves (when each silo
/// started, when each vote was cast, when a dead silo was last heard of), so a silo that joined late still shows how its
/// cluster came to be; what happened between two views it never saw is not invented.
/// </summary>
public sealed class MembershipHistory(int capacity = 256)
{
    private readonly Lock _lock = new();
    private readonly List<MembershipChange> _changes = [];

    /// <summary>Records what differs from <paramref name="previous"/> to <paramref name="next"/>, seen at <paramref name="now"/>.</summary>
    public void Observe(ClusterView previous, ClusterView next, DateTimeOffset now)
    {
        var seed = previous.Version < 0;
        var before = new Dictionary<SiloAddress, MembershipEntry>();
        foreach (var row in previous.Members) before[row.Silo] = row;
        lock (_lock)
        {
            foreach (var row in next.Members)
            {
                before.TryGetValue(row.Silo, out var old);
                if (old is null)
                {
                    Add(row.StartTime, next.Version, row, "joined", null);
                    if (row.Status is SiloStatus.ShuttingDown or SiloStatus.Dead) Add(seed ? LastHeardOf(row) : now, next.Version, row, Name(row.Status), LastVoter(row));
                    else if (row.Status == SiloStatus.Active && !seed) Add(now, next.Version, row, "active", null);
                }
                else if (old.Status != row.Status)
                {
                    Add(now, next.Version, row, Name(row.Status), row.Status == SiloStatus.Dead ? LastVoter(row) : null);
                }
                foreach (var vote in row.Suspicions)
                    if (old is null || !old.Suspicions.Contains(vote)) Add(vote.Time, next.Version, row, "suspected", vote.Suspecter.ToString());
            }
            if (_changes.Count > capacity) _changes.RemoveRange(0, _changes.Count - capacity);
        }
    }

    /// <summary>The changes kept, newest first.</summary>
    public IReadOnlyList<MembershipChange> Newest()
    {
        lock (_lock) return [.. _changes.OrderByDescending(c => c.Time).ThenByDescending(c => c.Version)];
    }

    private void Add(DateTimeOffset time, int version, MembershipEntry row, string change, string? by) =>
        _changes.Add(new MembershipChange(time, version, row.Silo.ToString(), row.SiloName, change, by));

    /// <summary>A row's last sign of life or vote: the nearest a seeded history can place a death it did not see.</summary>
    private static DateTimeOffset LastHeardOf(MembershipEntry row) =>
        row.Suspicions.Count == 0 ? row.IAmAliveTime : new[] { row.IAmAliveTime, row.Suspicions.Max(v => v.Time) }.Max();

    private static string? LastVoter(MembershipEntry row) => row.Suspicions.Count == 0 ? null : row.Suspicions.MaxBy(v => v.Time)!.Suspecter.ToString();

    private static string Name(SiloStatus status) => status switch
    {
        SiloStatus.Joining => "joined",
        SiloStatus.Active => "active",
        SiloStatus.ShuttingDown => "shutting-down",
        SiloStatus.Dead => "dead",
        _ => "gone",
    };
}
