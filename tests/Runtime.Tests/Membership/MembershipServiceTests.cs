using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Runtime.Membership;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>The membership service over the in-memory table, with probers the tests control and short intervals.</summary>
public sealed class MembershipServiceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(10);
    private readonly MembershipTestCluster _cluster = new(MembershipTestCluster.FastOptions());

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static SiloStatus StatusIn(MembershipTestCluster.Member observer, SiloAddress silo) => observer.Service.CurrentView.StatusOf(silo);

    private async Task<SiloStatus> TableStatusAsync(SiloAddress silo) =>
        (await _cluster.Table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == silo).Entry.Status;

    [Fact]
    public async Task Three_silos_start_and_all_see_three_active_silos_at_one_version()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);

        var table = await _cluster.Table.ReadAllAsync();
        foreach (var silo in silos)
        {
            var view = silo.Service.CurrentView;
            Assert.Equal(table.Version.Version, view.Version);
            Assert.Equal(silos.Select(s => s.Silo).Order(), view.ActiveSilos);
            Assert.Equal(3, silo.Service.Members.Count);
        }

        var row = table.Rows.Single(r => r.Entry.Silo == silos[1].Silo).Entry;
        Assert.Equal("silo-11002", row.SiloName);
        Assert.Equal("http://127.0.0.1:12002", row.HttpUrl);
        Assert.Empty(row.Suspicions);
    }

    [Fact]
    public async Task A_started_silo_is_joining_until_it_becomes_active()
    {
        var silo = await _cluster.StartSiloAsync(11001, activate: false);

        Assert.Equal(SiloStatus.Joining, await TableStatusAsync(silo.Silo));
        Assert.Equal(SiloStatus.Joining, silo.Service.CurrentView.StatusOf(silo.Silo));
        Assert.Empty(silo.Service.CurrentView.ActiveSilos);

        await silo.Service.BecomeActiveAsync();

        Assert.Equal(SiloStatus.Active, await TableStatusAsync(silo.Silo));
        Assert.Equal([silo.Silo], silo.Service.CurrentView.ActiveSilos);
    }

    [Fact]
    public async Task A_killed_silo_is_declared_dead_by_its_peers_within_the_bound_and_their_views_agree()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);
        var (survivors, victim) = (silos[..2], silos[2]);

        victim.Service.KillForTesting();
        _cluster.MakeUnreachable(victim.Silo);
        var detected = await MembershipTestCluster.WaitUntilAsync(
            () => survivors.All(s => StatusIn(s, victim.Silo) == SiloStatus.Dead), DetectionBound, "the survivors to see the killed silo Dead");
        output.WriteLine($"killed silo declared Dead in {detected.TotalMilliseconds:0} ms (probe interval 100 ms, 3 misses, 2 votes)");

        await MembershipTestCluster.WaitUntilAsync(() => MembershipTestCluster.ViewsAgree(survivors), DetectionBound, "the survivors' views to agree");
        Assert.Equal(SiloStatus.Dead, await TableStatusAsync(victim.Silo));
        Assert.All(survivors, s => Assert.Equal(survivors.Select(x => x.Silo).Order(), s.Service.CurrentView.ActiveSilos));

        // Both survivors voted: the Dead row carries two fresh, distinct suspecters.
        var row = (await _cluster.Table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == victim.Silo).Entry;
        Assert.Equal(survivors.Select(s => s.Silo).Order(), row.Suspicions.Select(v => v.Suspecter).Order());

        var warnings = survivors.SelectMany(s => s.Log.Entries).Where(e => e.Level == LogLevel.Warning).Select(e => e.EventId.Id).ToArray();
        Assert.Contains(1305, warnings);
        Assert.Contains(1306, warnings);
    }

    [Fact]
    public async Task A_silo_whose_probes_hang_is_declared_dead_too()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);
        foreach (var silo in silos)
        {
            silo.Prober.HangOnUnreachable = true;
        }

        silos[2].Service.KillForTesting();
        _cluster.MakeUnreachable(silos[2].Silo);

        var detected = await MembershipTestCluster.WaitUntilAsync(
            () => silos[..2].All(s => StatusIn(s, silos[2].Silo) == SiloStatus.Dead), DetectionBound, "the survivors to see the silo Dead");
        output.WriteLine($"silo with hanging probes declared Dead in {detected.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_silo_that_reads_itself_dead_raises_SelfDeclaredDead_and_stops_its_loops()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);
        var evicted = silos[2];
        var raised = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        evicted.Service.SelfDeclaredDead += () => raised.TrySetResult();

        // Its peers cannot reach it, but its own heartbeat and refresh keep running.
        _cluster.MakeUnreachable(evicted.Silo);

        await raised.Task.WaitAsync(DetectionBound);
        Assert.True(evicted.Service.IsDeclaredDead);
        Assert.Equal(SiloStatus.Dead, StatusIn(evicted, evicted.Silo));
        Assert.Contains(evicted.Log.Entries, e => e.EventId.Id == 1307 && e.Level == LogLevel.Error);

        // Stopped on its own: its heartbeat, refresh, probe and cleanup loops have all ended, so it writes and probes no more.
        await evicted.Service.LoopsEnded.WaitAsync(DetectionBound);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => evicted.Service.BecomeActiveAsync());
        Assert.Contains("is Dead", error.Message);
    }

    [Fact]
    public async Task Graceful_stop_marks_the_row_dead_at_once_without_raising_SelfDeclaredDead()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);
        var leaving = silos[2];
        var raised = false;
        leaving.Service.SelfDeclaredDead += () => raised = true;

        await leaving.Service.ShutDownAsync(CancellationToken.None);
        Assert.Equal(SiloStatus.ShuttingDown, await TableStatusAsync(leaving.Silo));
        await MembershipTestCluster.WaitUntilAsync(() => silos[..2].All(s => !s.Service.CurrentView.ActiveSilos.Contains(leaving.Silo)), DetectionBound, "peers to drop the shutting-down silo from the active set");

        await leaving.Service.StopAsync(CancellationToken.None);

        Assert.Equal(SiloStatus.Dead, await TableStatusAsync(leaving.Silo));
        Assert.Equal(SiloStatus.Dead, StatusIn(leaving, leaving.Silo));
        await MembershipTestCluster.WaitUntilAsync(() => silos[..2].All(s => StatusIn(s, leaving.Silo) == SiloStatus.Dead), TimeSpan.FromSeconds(2), "peers to see the leaver Dead");
        // Once StopAsync returned its loops have ended and reading its own Dead row is the leave it asked for:
        // SelfDeclaredDead, raised only after IsDeclaredDead is set, can no longer come.
        await leaving.Service.LoopsEnded.WaitAsync(DetectionBound);
        Assert.False(raised);
        Assert.False(leaving.Service.IsDeclaredDead);
    }

    [Fact]
    public async Task While_the_table_is_unreachable_nobody_is_declared_dead_and_views_are_kept()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);
        var (survivors, victim) = (silos[..2], silos[2]);
        var version = survivors[0].Service.CurrentView.Version;

        foreach (var silo in silos)
        {
            silo.Table.Failing = true;
        }

        victim.Service.KillForTesting();
        _cluster.MakeUnreachable(victim.Silo);

        // Longer than detection takes and than the I-am-alive staleness bound (every peer now looks stale), with probe
        // rounds after each: whatever they could have declared, they have had the chance to.
        var victimAlive = (await _cluster.Table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == victim.Silo).Entry.IAmAliveTime;
        await MembershipTestCluster.WaitForProbeRoundsAsync(survivors, victim.Silo, _cluster.Options.MissedProbesLimit + 2, "probe rounds past detection during the outage");
        await MembershipTestCluster.WaitUntilAsync(() => DateTimeOffset.UtcNow - victimAlive > _cluster.Options.IAmAliveStaleAfter, DetectionBound, "the victim's I-am-alive to be stale");
        await MembershipTestCluster.WaitForProbeRoundsAsync(survivors, victim.Silo, 2, "probe rounds once the victim looks stale");
        Assert.All(survivors, s => Assert.Equal(version, s.Service.CurrentView.Version));
        Assert.All(survivors, s => Assert.Equal(3, s.Service.CurrentView.ActiveSilos.Count));
        Assert.All(survivors, s => Assert.False(s.Service.IsDeclaredDead));
        Assert.Equal(SiloStatus.Active, await TableStatusAsync(victim.Silo));
        Assert.Contains(survivors[0].Log.Entries, e => e.EventId.Id == 1308 && e.Level == LogLevel.Warning);

        // Back: the dead silo is declared, and the survivors' old I-am-alive times do not get each other killed.
        foreach (var silo in survivors)
        {
            silo.Table.Failing = false;
        }

        var recovered = DateTimeOffset.UtcNow;
        await MembershipTestCluster.WaitUntilAsync(() => survivors.All(s => StatusIn(s, victim.Silo) == SiloStatus.Dead), DetectionBound, "the victim to be declared Dead once the table is back");
        // Staleness counts again once the table has worked for the staleness bound: by then each survivor has written a
        // fresh I-am-alive, and the rounds after it must not suspect the other.
        await MembershipTestCluster.WaitUntilAsync(() => DateTimeOffset.UtcNow - recovered > _cluster.Options.IAmAliveStaleAfter, DetectionBound, "the table to have worked for the staleness bound");
        await MembershipTestCluster.WaitForProbeRoundsAsync([survivors[0]], survivors[1].Silo, 2, "survivor 0 to probe survivor 1 twice more");
        await MembershipTestCluster.WaitForProbeRoundsAsync([survivors[1]], survivors[0].Silo, 2, "survivor 1 to probe survivor 0 twice more");
        var table = await _cluster.Table.ReadAllAsync();
        Assert.Equal(survivors.Select(s => s.Silo).Order(), table.Rows.Where(r => r.Entry.Status == SiloStatus.Active).Select(r => r.Entry.Silo).Order());
        Assert.All(survivors, s => Assert.False(s.Service.IsDeclaredDead));
    }

    [Fact]
    public async Task One_silo_alone_cannot_declare_a_peer_dead_when_two_votes_are_needed()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);

        // Only silo 0 loses its link to silo 2; silo 1 still reaches it.
        silos[0].Prober.MakeUnreachable(silos[2].Silo);

        await MembershipTestCluster.WaitUntilAsync(
            () => silos[0].Log.Entries.Any(e => e.EventId.Id == 1305), DetectionBound, "silo 0 to suspect silo 2");
        // More missed rounds, each of which votes again if it can: one voter stays one vote.
        await MembershipTestCluster.WaitForProbeRoundsAsync([silos[0]], silos[2].Silo, _cluster.Options.MissedProbesLimit + 2, "silo 0 to keep probing silo 2");
        Assert.Equal(SiloStatus.Active, await TableStatusAsync(silos[2].Silo));
        var row = (await _cluster.Table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == silos[2].Silo).Entry;
        Assert.Equal([silos[0].Silo], row.Suspicions.Select(v => v.Suspecter));
    }

    [Fact]
    public async Task In_a_two_silo_cluster_one_vote_declares_the_other_dead()
    {
        var silos = await _cluster.StartActiveSilosAsync(2);

        silos[1].Service.KillForTesting();
        _cluster.MakeUnreachable(silos[1].Silo);

        await MembershipTestCluster.WaitUntilAsync(() => StatusIn(silos[0], silos[1].Silo) == SiloStatus.Dead, DetectionBound, "the survivor to declare its peer Dead");
        Assert.Equal([silos[0].Silo], silos[0].Service.CurrentView.ActiveSilos);
    }

    [Fact]
    public async Task A_silo_that_stops_heartbeating_is_declared_dead_even_though_probes_answer()
    {
        var silos = await _cluster.StartActiveSilosAsync(3);

        // Its probes still succeed (say, a wedged process whose socket answers), but its I-am-alive stops.
        silos[2].Service.KillForTesting();

        var detected = await MembershipTestCluster.WaitUntilAsync(
            () => silos[..2].All(s => StatusIn(s, silos[2].Silo) == SiloStatus.Dead), DetectionBound, "the silo with a stale I-am-alive to be declared Dead");
        output.WriteLine($"stale I-am-alive declared Dead in {detected.TotalMilliseconds:0} ms (stale after 2 s)");
        Assert.True(detected >= _cluster.Options.IAmAliveStaleAfter - TimeSpan.FromMilliseconds(500), $"declared after {detected}, before its I-am-alive could be stale");
    }

    [Fact]
    public async Task Views_change_in_version_order_and_never_concurrently()
    {
        var observer = await _cluster.StartSiloAsync(11001);
        var versions = new List<int>();
        var inside = 0;
        var overlapped = false;
        observer.Service.ViewChanged += view =>
        {
            if (Interlocked.Increment(ref inside) != 1)
            {
                overlapped = true;
            }

            Thread.Sleep(2);
            lock (versions)
            {
                versions.Add(view.Version);
            }

            Interlocked.Decrement(ref inside);
        };

        // Many silos join and leave while the observer refreshes and writes on its own.
        var others = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => _cluster.StartSiloAsync(11100 + i)));
        await Task.WhenAll(others.Take(3).Select(o => o.Service.StopAsync(CancellationToken.None)));
        var final = (await _cluster.Table.ReadAllAsync()).Version.Version;
        await MembershipTestCluster.WaitUntilAsync(
            () =>
            {
                lock (versions)
                {
                    return versions.Count > 0 && versions[^1] == final;
                }
            },
            DetectionBound,
            "the observer to announce the final version");

        Assert.False(overlapped);
        lock (versions)
        {
            Assert.NotEmpty(versions);
            Assert.Equal(versions.Order(), versions);
            Assert.Equal(versions.Distinct().Count(), versions.Count);
            Assert.Equal(final, versions[^1]);
        }
    }

    [Fact]
    public async Task Start_marks_older_incarnations_of_the_same_endpoint_dead()
    {
        var old = await _cluster.StartSiloAsync(11001, generation: 1);
        var other = await _cluster.StartSiloAsync(11002, generation: 1);
        old.Service.KillForTesting();

        var restarted = await _cluster.StartSiloAsync(11001, generation: 2);

        Assert.Equal(SiloStatus.Dead, await TableStatusAsync(old.Silo));
        Assert.Equal(SiloStatus.Active, await TableStatusAsync(other.Silo));
        Assert.Equal([restarted.Silo, other.Silo], restarted.Service.CurrentView.ActiveSilos);
        Assert.Contains(restarted.Log.Entries, e => e.EventId.Id == 1303 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task Start_removes_dead_rows_older_than_the_defunct_age()
    {
        var longAgo = DateTimeOffset.UtcNow.AddHours(-2);
        var read = await _cluster.Table.ReadAllAsync();
        var defunct = new MembershipEntry(new SiloAddress("127.0.0.1", 11900, 1), "old", SiloStatus.Dead, null, longAgo, longAgo, []);
        Assert.True(await _cluster.Table.InsertRowAsync(defunct, read.Version.Next()));

        var silo = await _cluster.StartSiloAsync(11001);

        await MembershipTestCluster.WaitUntilAsync(
            () => silo.Log.Entries.Any(e => e.EventId.Id == 1312), TimeSpan.FromSeconds(5), "the cleanup to be logged");
        Assert.DoesNotContain((await _cluster.Table.ReadAllAsync()).Rows, r => r.Entry.Silo == defunct.Silo);
    }

    [Fact]
    public async Task Start_refuses_an_address_that_already_has_a_row()
    {
        var first = await _cluster.StartSiloAsync(11001);
        first.Service.KillForTesting();
        var twin = new MembershipService(_cluster.Table, new ControlledSiloProber(), first.Silo, "twin", null, _cluster.Options, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => twin.StartAsync(CancellationToken.None));

        Assert.Contains(first.Silo.ToString(), error.Message);
        Assert.Contains("new generation", error.Message);
    }

    [Fact]
    public async Task Calls_out_of_order_fail_with_clear_errors()
    {
        var service = new MembershipService(_cluster.Table, new ControlledSiloProber(), new SiloAddress("127.0.0.1", 11001, 1), "s", null, _cluster.Options, NullLogger.Instance);

        var early = await Assert.ThrowsAsync<InvalidOperationException>(() => service.BecomeActiveAsync());
        Assert.Contains("StartAsync", early.Message);

        await service.StartAsync(CancellationToken.None);
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => service.StartAsync(CancellationToken.None));
        Assert.Contains("already started", twice.Message);
        await service.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(nameof(MembershipOptions.ProbeInterval))]
    [InlineData(nameof(MembershipOptions.MissedProbesLimit))]
    [InlineData(nameof(MembershipOptions.VotesForDeathDeclaration))]
    public void Invalid_options_are_rejected_naming_the_option(string option)
    {
        var options = MembershipTestCluster.FastOptions();
        switch (option)
        {
            case nameof(MembershipOptions.ProbeInterval):
                options.ProbeInterval = TimeSpan.Zero;
                break;
            case nameof(MembershipOptions.MissedProbesLimit):
                options.MissedProbesLimit = 0;
                break;
            default:
                options.VotesForDeathDeclaration = 0;
                break;
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MembershipService(_cluster.Table, new ControlledSiloProber(), new SiloAddress("127.0.0.1", 1, 1), "s", null, options, NullLogger.Instance));
        Assert.Contains($"MembershipOptions.{option}", error.Message);
    }
}
