using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Catalog;
using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Cluster;

/// <summary>Handing a grain from its previous owner to its new one while silos' views disagree.</summary>
public sealed class HandOffTests
{
    [Fact]
    public async Task Two_silos_that_each_wait_for_the_other_to_release_a_grain_both_go_on_at_once()
    {
        var tables = new SlowReadsTable[2];
        await using var cluster = new TestCluster
        {
            // Silos read the table only when something makes them: the test decides which view each one holds.
            ConfigureMembership = o => o.TableRefreshInterval = TimeSpan.FromHours(1),
        };
        cluster.ConfigureServices = (index, services) =>
        {
            tables[index] = new SlowReadsTable(cluster.Table);
            services.AddSingleton<IMembershipTable>(tables[index]);
            // Far beyond the test's own wait: a silo that waited the bound out would fail the test, not slow it.
            services.Configure<ClusterOptions>(o => o.HandOffTimeout = TimeSpan.FromMinutes(2));
        };
        for (var i = 0; i < 2; i++) await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(2);
        var (a, b) = (cluster.Silos[0], cluster.Silos[1]);
        var key = Enumerable.Range(0, 100).Select(i => $"handoff-{i}").First(k => a.Cluster.Placement.OwnerOf(new GrainId("persistentcounter", k)) == a.Cluster.Self);
        var grain = new GrainId("persistentcounter", key);

        // Views that disagree, as during a join: silo A moved from a view where B owned the grain to one where A owns
        // it; silo B from a view where A owned it to one where B owns it. Each will ask the other to let go first.
        var real = a.Cluster.Membership.CurrentView;
        ClusterView Only(SiloAddress silo) => new(real.Version, [.. real.Members.Where(m => m.Silo == silo)]);
        a.Cluster.Placement.Update(Only(b.Cluster.Self));
        a.Cluster.Placement.Update(real);
        b.Cluster.Placement.Update(Only(a.Cluster.Self));
        b.Cluster.Placement.Update(Only(b.Cluster.Self));
        Assert.Equal(b.Cluster.Self, a.Cluster.Placement.PreviousOwnerOf(grain));
        Assert.Equal(a.Cluster.Self, b.Cluster.Placement.PreviousOwnerOf(grain));

        // A release first reads the table. Holding the reads keeps both releases waiting until both silos have an
        // activation in its hand-off; the table meanwhile gets a newer version, on which both silos will agree.
        foreach (var t in tables) t.Hold();
        var snapshot = await cluster.Table.ReadAllAsync();
        var row = snapshot.Rows.Single(r => r.Entry.Silo == a.Cluster.Self);
        Assert.True(await cluster.Table.UpdateRowAsync(row.Entry, row.ETag, snapshot.Version.Next()));

        var fromA = Task.Run(() => a.Factory.GetGrain<IPersistentCounterGrain>(key).Add(1));
        var fromB = Task.Run(() => b.Factory.GetGrain<IPersistentCounterGrain>(key).Add(2));
        bool InHandOff(ClusterSilo silo, SlowReadsTable table) =>
            table.WaitingReads > 0 && silo.Runtime.Catalog.TryGet(grain, out var activation) && activation.State == ActivationState.Activating;
        await TestCluster.WaitUntilAsync(() => InHandOff(a, tables[0]) && InHandOff(b, tables[1]), TimeSpan.FromSeconds(10),
            "each silo to hold an activation in its hand-off and to be asked by the other to release it");
        foreach (var t in tables) t.Release();

        // Each release ends the other silo's waiting activation, which has read no state yet; neither waits out the bound.
        var answers = await Task.WhenAll(fromA, fromB).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, answers.Max());
        Assert.Equal(3, await a.Factory.GetGrain<IPersistentCounterGrain>(key).Get());
        // At most one: a silo asked to release may still be letting its activation go when the calls are answered.
        var hosts = cluster.Silos.Count(s => s.Runtime.Catalog.TryGet(grain, out var x) && x.State == ActivationState.Valid);
        Assert.True(hosts <= 1, $"{hosts} silos hold an active activation of {grain}");
    }
}
