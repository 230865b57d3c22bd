using Platform.Runtime.Membership;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Cluster;

/// <summary>
/// A silo whose process is gone is declared dead as soon as its peers find its port refusing them, not after rounds
/// of missed probes; a broken connection to a silo that still listens declares nothing.
/// </summary>
public sealed class KilledSiloDetectionTests
{
    // Probes alone would need 1,000 misses (100 s) or an I-am-alive 10 min old: only a refused dial can be quick here.
    private static void ProbesCannotDetect(MembershipOptions o)
    {
        o.MissedProbesLimit = 1000;
        o.IAmAliveStaleAfter = TimeSpan.FromMinutes(10);
    }

    [Fact]
    public async Task A_killed_silo_whose_port_refuses_is_declared_dead_by_its_peers_without_missed_probes()
    {
        await using var cluster = new TestCluster { ConfigureMembership = ProbesCannotDetect };
        for (var i = 0; i < 3; i++) await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(3);
        var victim = cluster.Silos[2];
        // Connections to the victim exist in both directions before it dies, as they do in a working cluster.
        for (var i = 0; i < 30; i++) await cluster.Silos[i % 3].Factory.GetGrain<IPersistentCounterGrain>($"refused-{i}").Add(1);

        await victim.KillAsync();
        await cluster.WaitForViewAsync(2, TimeSpan.FromSeconds(20));

        var row = cluster.Silos[0].Cluster.Membership.CurrentView.Members.Single(m => m.Silo == victim.Cluster.Self);
        Assert.Equal(SiloStatus.Dead, row.Status);
        // Two survivors, two votes needed: both found the port refusing.
        Assert.Equal(2, row.Suspicions.Select(v => v.Suspecter).Distinct().Count());
        for (var i = 0; i < 30; i++)
            Assert.Equal(1, await cluster.Silos[i % 2].Factory.GetGrain<IPersistentCounterGrain>($"refused-{i}").Get());
    }

    [Fact]
    public async Task A_broken_connection_to_a_silo_that_still_listens_declares_nothing()
    {
        await using var cluster = new TestCluster { ConfigureMembership = ProbesCannotDetect };
        for (var i = 0; i < 2; i++) await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(2);
        var (a, b) = (cluster.Silos[0], cluster.Silos[1]);
        var grain = a.Factory.GetGrain<IPersistentCounterGrain>(Enumerable.Range(0, 100).Select(i => $"listening-{i}")
            .First(k => a.Cluster.Placement.OwnerOf(new GrainId("persistentcounter", k)) == b.Cluster.Self));
        await grain.Add(1);
        var version = a.Cluster.Membership.CurrentView.Version;
        var suspicionsBefore = SuspicionsOf(cluster, b);

        // Both ends see the connection break; each dials the other again, is answered, and votes nothing.
        var (checkedByA, checkedByB) = (a.Cluster.Membership.LostPeersChecked, b.Cluster.Membership.LostPeersChecked);
        a.Cluster.Transport.Disconnect(b.Cluster.Self);
        await TestCluster.WaitUntilAsync(() => a.Cluster.Membership.LostPeersChecked > checkedByA && b.Cluster.Membership.LostPeersChecked > checkedByB,
            TimeSpan.FromSeconds(10), "both silos to check the other after the broken connection");
        Assert.Equal(2, await grain.Add(1));

        Assert.Equal(version, a.Cluster.Membership.CurrentView.Version);
        Assert.Equal(suspicionsBefore, SuspicionsOf(cluster, b));
        Assert.Equal(2, a.Cluster.Membership.CurrentView.ActiveSilos.Count);
    }

    private static int SuspicionsOf(TestCluster cluster, ClusterSilo silo) =>
        cluster.Silos[0].Cluster.Membership.CurrentView.Members.Single(m => m.Silo == silo.Cluster.Self).Suspicions.Count;
}
