namespace Platform.Runtime.Membership;

/// <summary>Sends a direct ping to a silo over the silo-to-silo connection.</summary>
public interface ISiloProber
{
    /// <summary>True if <paramref name="silo"/> answered within <paramref name="timeout"/>.</summary>
    Task<bool> ProbeAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default);
}
