using System.Collections.Concurrent;
using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>A prober whose answers the test decides: silos in <see cref="Unreachable"/> never answer, the rest answer at once.</summary>
public sealed class ControlledSiloProber : ISiloProber
{
    private readonly ConcurrentDictionary<SiloAddress, bool> _unreachable = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _probesOf = new();
    private long _probes;

    /// <summary>Silos this prober cannot reach.</summary>
    public ICollection<SiloAddress> Unreachable => _unreachable.Keys;

    /// <summary>When true, an unreachable silo's probe hangs until its timeout (a dropped packet) instead of failing at once (a refused connection).</summary>
    public bool HangOnUnreachable { get; set; }

    public long Probes => Interlocked.Read(ref _probes);

    /// <summary>Probes sent to <paramref name="silo"/> so far: a test waits for rounds instead of sleeping.</summary>
    public long ProbesOf(SiloAddress silo) => _probesOf.GetValueOrDefault(silo);

    public void MakeUnreachable(SiloAddress silo) => _unreachable[silo] = true;

    public void MakeReachable(SiloAddress silo) => _unreachable.TryRemove(silo, out _);

    public async Task<bool> ProbeAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _probes);
        _probesOf.AddOrUpdate(silo, 1, static (_, n) => n + 1);
        if (!_unreachable.ContainsKey(silo))
        {
            return true;
        }

        if (HangOnUnreachable)
        {
            await Task.Delay(timeout, cancellationToken);
        }

        return false;
    }
}
