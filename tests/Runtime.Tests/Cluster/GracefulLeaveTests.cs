using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Membership;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Cluster;

/// <summary>A graceful leave must not depend on how soon peers read the membership table.</summary>
public sealed class GracefulLeaveTests
{
    [Fact]
    public async Task A_leaving_silo_waits_for_a_peer_that_reads_the_table_late_and_no_call_through_that_peer_fails()
    {
        SlowReadsTable? slow = null;
        await using var cluster = new TestCluster();
        cluster.ConfigureServices = (index, services) =>
        {
            if (index != 0) return;
            slow = new SlowReadsTable(cluster.Table);
            services.AddSingleton<IMembershipTable>(slow);
        };
        for (var i = 0; i < 3; i++) await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(3);

        await using var writers = new CounterWriters(() => cluster.Silos[0].Factory, "late");
        await writers.AllAnsweredAsync();
        Assert.True(cluster.Silos[2].Runtime.Catalog.Count > 0, "silo 2 hosts none of the grains it is to hand off");

        // Silo 0 (through which every call goes) now learns of table changes 1.5 s after they are written: far
        // longer than the two refresh intervals (200 ms here) a leaving silo would otherwise wait.
        var delay = TimeSpan.FromMilliseconds(1500);
        slow!.ReadDelay = delay;
        var leaving = Stopwatch.StartNew();
        await cluster.Silos[2].StopAsync();
        leaving.Stop();
        Assert.True(leaving.Elapsed >= delay - TimeSpan.FromMilliseconds(50), $"silo 2 closed its connections {leaving.ElapsedMilliseconds} ms after it began to leave, before silo 0 could have seen it leave");
        Assert.True(leaving.Elapsed < TimeSpan.FromSeconds(8), $"the leave took {leaving.ElapsedMilliseconds} ms: it waited out its drain timeout rather than silo 0's confirmation");

        slow.ReadDelay = TimeSpan.Zero;
        await cluster.WaitForViewAsync(2);
        await writers.ProgressAsync("after silo 2 left");
        await writers.StopAndCheckAsync(cluster.Silos[1].Factory);
    }

    [Fact]
    public async Task A_peer_confirms_a_leave_only_after_the_calls_it_routed_there_under_the_older_view_are_queued()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var peer = cluster.Silos[0].Cluster;
        var leaving = cluster.Silos[2].Cluster.Self;

        // A sender on silo 0 that read silo 2 as a grain's owner and has not queued its call yet (preempted, say).
        var routes = peer.Placement.Routes;
        var epoch = routes.Enter();
        var stop = cluster.Silos[2].StopAsync();
        await TestCluster.WaitUntilAsync(() => peer.Membership.CurrentView.StatusOf(leaving) == SiloStatus.ShuttingDown,
            TimeSpan.FromSeconds(10), "silo 0 to see silo 2 leaving");

        // Now it queues its frame. Silo 2 must read it before it closes: silo 0's confirmation waits for the sender.
        var answered = peer.Messages.PingAsync(leaving, TimeSpan.FromSeconds(10));
        routes.Exit(epoch);
        Assert.Null(await answered);
        await stop.WaitAsync(TimeSpan.FromSeconds(20));
    }
}
