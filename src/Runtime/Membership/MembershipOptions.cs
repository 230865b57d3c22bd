namespace Platform.Runtime.Membership;

/// <summary>
/// Failure detection and membership-table settings. With the defaults a killed silo is declared Dead
/// after about 3 missed probes (≈3–4 s) once two peers agree, well within 10 s.
/// </summary>
public sealed class MembershipOptions
{
    /// <summary>Which cluster's rows this silo reads and writes. Default "default".</summary>
    public string ClusterId { get; set; } = "default";

    /// <summary>How often a silo writes its I-am-alive time. Default 2 s.</summary>
    public TimeSpan IAmAliveInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the table is read to refresh the view. Default 1 s.</summary>
    public TimeSpan TableRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each monitored peer is probed. Default 1 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a probe waits for its answer. Default 1 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive missed probes before a silo writes a suspicion. Default 3.</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>How many peers each silo probes (the next ones on a ring of active silos). Default 3.</summary>
    public int ProbedSilos { get; set; } = 3;

    /// <summary>Fresh suspicions needed to declare a silo Dead (fewer when fewer other silos are active). Default 2.</summary>
    public int VotesForDeathDeclaration { get; set; } = 2;

    /// <summary>A suspicion older than this no longer counts. Default 20 s.</summary>
    public TimeSpan DeathVoteExpiration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A silo whose I-am-alive time is older than this is suspected even without probes (it may have no connection). Default 10 s.</summary>
    public TimeSpan IAmAliveStaleAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Dead rows older than this are deleted. Default 1 h.</summary>
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromHours(1);
}
