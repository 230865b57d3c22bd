using Platform.Runtime.Membership;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>
/// A silo that is itself stalled (CPU starvation while several silos start on one machine, a long GC pause) sees every
/// probe time out, late. Those timeouts say nothing about its peers; counting them let a starved silo declare healthy
/// peers Dead, one of which then exited before it was ready. Time here is a <see cref="ManualClock"/>, so the stall is exact.
/// </summary>
public sealed class StalledProberTests : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan WaitBound = TimeSpan.FromSeconds(10);

    private readonly ManualClock _clock = new();
    private readonly MemoryMembershipTable _table = new("stall");
    private readonly List<MembershipService> _services = [];

    private static MembershipOptions Options() => new()
    {
        ClusterId = "stall",
        ProbeInterval = Interval,
        ProbeTimeout = Interval,
        MissedProbesLimit = 3,
        VotesForDeathDeclaration = 2,
        // Only probes decide here: no heartbeat or refresh traffic, no staleness verdicts.
        IAmAliveInterval = TimeSpan.FromHours(1),
        TableRefreshInterval = TimeSpan.FromHours(1),
        IAmAliveStaleAfter = TimeSpan.FromHours(2),
        DeathVoteExpiration = TimeSpan.FromHours(2),
    };

    [Fact]
    public async Task A_stalled_silo_does_not_count_its_late_probe_timeouts_against_a_peer_but_counts_them_once_it_runs_on_time()
    {
        var peer = await StartAsync(11002, new ControlledSiloProber(), new RecordingLogger());
        var silent = new SilentProber();
        var log = new RecordingLogger();
        var prober = await StartAsync(11001, silent, log);
        Assert.Equal([prober.Self, peer.Self], prober.CurrentView.ActiveSilos);

        // First round: its probe is out, and the peer will never answer it. Both silos' probe loops must be waiting on
        // the clock first, or the advance passes before a loop arms its timer and that loop never starts its round.
        await MembershipTestCluster.WaitUntilAsync(() => _clock.TimersDueWithin(Interval) >= 2, WaitBound, "both probe loops to wait on the clock");
        _clock.Advance(Interval);
        await WaitForProbesAsync(silent, 1);

        // Six rounds in which this silo is frozen for three timeouts at a time: each probe gives up far too late.
        for (var round = 2; round <= 7; round++)
        {
            _clock.Stall(3 * Interval);
            await WaitForProbesAsync(silent, round);
        }

        var row = await RowAsync(peer.Self);
        Assert.Equal(SiloStatus.Active, row.Status);
        Assert.Empty(row.Suspicions);
        Assert.Equal(6, log.Entries.Count(e => e.EventId.Id == 1315));
        Assert.DoesNotContain(log.Entries, e => e.EventId.Id is 1305 or 1306);

        // Running on time again, the same silence is three misses in a row: the peer is declared Dead.
        for (var round = 8; round <= 9; round++)
        {
            _clock.Advance(Interval);
            await WaitForProbesAsync(silent, round);
        }
        _clock.Advance(Interval);
        await MembershipTestCluster.WaitUntilAsync(() => prober.CurrentView.StatusOf(peer.Self) == SiloStatus.Dead, WaitBound, "the silent peer to be declared Dead");
        Assert.Equal(SiloStatus.Dead, (await RowAsync(peer.Self)).Status);
        Assert.Contains(log.Entries, e => e.EventId.Id == 1306);
    }

    private async Task<MembershipService> StartAsync(int port, ISiloProber prober, RecordingLogger log)
    {
        var service = new MembershipService(_table, prober, new SiloAddress("127.0.0.1", port, 1), $"silo-{port}", null, Options(), log, _clock);
        _services.Add(service);
        await service.StartAsync(CancellationToken.None);
        await service.BecomeActiveAsync();
        return service;
    }

    private async Task<MembershipEntry> RowAsync(SiloAddress silo) =>
        (await _table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == silo).Entry;

    /// <summary>A round has started once its probe is out; rounds run one at a time, so the one before it has finished.</summary>
    private static Task WaitForProbesAsync(SilentProber prober, int count) =>
        MembershipTestCluster.WaitUntilAsync(() => prober.Probes >= count, WaitBound, $"probe round {count} to start");

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services) await service.DisposeAsync();
    }

    /// <summary>A peer that never answers: each probe waits until the prober gives up on it.</summary>
    private sealed class SilentProber : ISiloProber
    {
        private int _probes;

        public int Probes => Volatile.Read(ref _probes);

        public async Task<bool> ProbeAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _probes);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return false;
        }
    }
}
