namespace Platform.Runtime.Membership;

/// <summary>What one silo believes the cluster is, as of a table version. Views are published in version order.</summary>
public sealed class ClusterView(int version, IReadOnlyList<MembershipEntry> members)
{
    public static readonly ClusterView Empty = new(-1, []);

    public int Version { get; } = version;

    /// <summary>Every row, any status.</summary>
    public IReadOnlyList<MembershipEntry> Members { get; } = members;

    /// <summary>Silos that own grains: Active ones, in address order.</summary>
    public IReadOnlyList<SiloAddress> ActiveSilos { get; } = [.. members.Where(m => m.Status == SiloStatus.Active).Select(m => m.Silo).Order()];

    public SiloStatus StatusOf(SiloAddress silo)
    {
        foreach (var m in Members)
            if (m.Silo == silo) return m.Status;
        return SiloStatus.None;
    }
}

/// <summary>This silo's membership: its own address and the live view, with a notification per new view.</summary>
public interface IClusterMembership
{
    SiloAddress Self { get; }
    ClusterView CurrentView { get; }

    /// <summary>Raised after <see cref="CurrentView"/> changed, in table-version order, never concurrently.</summary>
    event Action<ClusterView>? ViewChanged;
}
