namespace Platform.Runtime.Membership;

/// <summary>Sends a direct ping to a silo over the silo-to-silo connection.</summary>
public interface ISiloProber
{
    /// <summary>True if <paramref name="silo"/> answered within <paramref name="timeout"/>.</summary>
    Task<bool> ProbeAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pings <paramref name="silo"/>, dialing a new connection when the last one broke: null once it answered,
    /// otherwise why not (a refused dial carries the <see cref="System.Net.Sockets.SocketException"/>).
    /// </summary>
    Task<Exception?> DialAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Task.FromResult<Exception?>(null);
}
