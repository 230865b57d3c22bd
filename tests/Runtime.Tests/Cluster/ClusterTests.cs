using System.Collections.Concurrent;
using Platform.Runtime.Catalog;
using Platform.Runtime.Invocation;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Cluster;

public sealed class ClusterTests
{
    private static int SilosHosting(TestCluster cluster, GrainId id)
        => cluster.Silos.Count(s => !s.IsStopped && s.Runtime.Catalog.TryGet(id, out var a) && a.State != ActivationState.Invalid);

    [Fact]
    public async Task Three_silos_agree_on_an_active_view()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var views = cluster.Silos.Select(s => s.Cluster.Membership.CurrentView).ToList();
        Assert.All(views, v => Assert.Equal(3, v.ActiveSilos.Count));
        Assert.Single(views.Select(v => string.Join(",", v.ActiveSilos)).Distinct());
    }

    [Fact]
    public async Task Grains_spread_over_silos_each_activated_once_and_reachable_from_every_silo()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        for (var i = 0; i < 60; i++)
        {
            var via = cluster.Silos[i % 3].Factory;
            Assert.Equal(i + 1, await via.GetGrain<IPingGrain>($"p{i}").Ping(i));
        }
        // Call every grain again from every silo: still one activation each.
        for (var i = 0; i < 60; i++)
            foreach (var s in cluster.Silos)
                Assert.Equal(i + 1, await s.Factory.GetGrain<IPingGrain>($"p{i}").Ping(i));
        var perSilo = cluster.Silos.Select(s => Enumerable.Range(0, 60).Count(i => s.Runtime.Catalog.TryGet(new GrainId("ping", $"p{i}"), out _))).ToList();
        Assert.Equal(60, perSilo.Sum());
        Assert.All(perSilo, n => Assert.InRange(n, 5, 40));
    }

    [Fact]
    public async Task Exception_from_a_grain_on_another_silo_keeps_its_type_and_message()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        for (var i = 0; i < 10; i++)
        {
            var grain = cluster.Silos[0].Factory.GetGrain<IFailingGrain>($"f{i}");
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw($"boom {i}"));
            Assert.Equal($"boom {i}", e.Message);
            var a = await Assert.ThrowsAsync<ArgumentException>(() => grain.ThrowArgument("widget"));
            Assert.Equal("widget", a.ParamName);
        }
    }

    [Fact]
    public async Task Observer_on_one_silo_receives_pushes_from_a_grain_on_another()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var heard = new ConcurrentQueue<string>();
        // Pick a room that lives on silo 1 and subscribe from silo 0.
        var key = Enumerable.Range(0, 100).Select(i => $"room-{i}").First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("chatroom", k)) == cluster.Silos[1].Cluster.Self);
        var listener = cluster.Silos[0].Factory.CreateObjectReference<IChatObserver>(new Listener(heard));
        await cluster.Silos[0].Factory.GetGrain<IChatRoomGrain>(key).Join(listener);
        for (var i = 0; i < 5; i++) await cluster.Silos[0].Factory.GetGrain<IChatRoomGrain>(key).Say($"m{i}");
        await TestCluster.WaitUntilAsync(() => heard.Count >= 5, TimeSpan.FromSeconds(10), "five pushes");
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], heard);
        Assert.Equal(1, SilosHosting(cluster, new GrainId("chatroom", key)));
    }

    [Fact]
    public async Task Pushes_from_one_silo_to_an_observer_on_another_arrive_in_send_order()
    {
        // More pool threads than cores: were arriving calls handed to the pool one by one, they would race to the observer's queue.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
        try
        {
            await using var cluster = await TestCluster.StartAsync(2);
            var heard = new ConcurrentQueue<string>();
            var listener = (GrainReference)(object)cluster.Silos[0].Factory.CreateObjectReference<IChatObserver>(new Listener(heard));
            // The same observer as silo 1 sees it: every push below is a frame on silo 1's one connection to silo 0.
            var remote = cluster.Silos[1].Runtime.GetGrain<IChatObserver>(listener.GrainId);
            const int count = 20_000;
            var expected = new string[count];
            for (var i = 0; i < count; i++)
            {
                expected[i] = $"m{i}";
                if (i % 2 == 0) remote.Said(expected[i]);  // one-way
                else _ = remote.SaidAsync(expected[i]);    // a request: ordered with the one-way calls all the same
            }
            await TestCluster.WaitUntilAsync(() => heard.Count >= count, TimeSpan.FromSeconds(30), $"{count} pushes");
            Assert.Equal(expected, heard);
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, io);
        }
    }

    [Fact]
    public async Task Call_to_a_grain_on_another_silo_times_out_with_the_deadline_error()
    {
        await using var cluster = await TestCluster.StartAsync(2, o => o.ResponseTimeout = TimeSpan.FromMilliseconds(500));
        var key = Enumerable.Range(0, 100).Select(i => $"slow-{i}").First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("slow", k)) == cluster.Silos[1].Cluster.Self);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => cluster.Silos[0].Factory.GetGrain<ISlowGrain>(key).Sleep(TimeSpan.FromSeconds(5)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public async Task Lost_connection_fails_pending_calls_at_once()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var key = Enumerable.Range(0, 100).Select(i => $"slow-{i}").First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("slow", k)) == cluster.Silos[1].Cluster.Self);
        var call = cluster.Silos[0].Factory.GetGrain<ISlowGrain>(key).Sleep(TimeSpan.FromSeconds(20));
        // The call is out: silo 0 waits for it, and silo 1 has activated the grain to run it.
        await TestCluster.WaitUntilAsync(() => cluster.Silos[0].Cluster.Messages.PendingCount >= 1 && cluster.Silos[1].Runtime.Catalog.TryGet(new GrainId("slow", key), out _),
            TimeSpan.FromSeconds(10), "the call to reach silo 1");
        var started = DateTime.UtcNow;
        await cluster.Silos[1].KillAsync();
        await Assert.ThrowsAsync<SiloUnavailableException>(() => call);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "pending call did not fail promptly");
    }

    [Fact]
    public async Task Oversized_argument_fails_with_a_clear_error_and_the_connection_keeps_working()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var key = Enumerable.Range(0, 100).Select(i => $"echo-{i}").First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("slow", k)) == cluster.Silos[1].Cluster.Self);
        var grain = cluster.Silos[0].Factory.GetGrain<ISlowGrain>(key);
        var e = await Assert.ThrowsAsync<MessageTooLargeException>(async () => await grain.Echo(new string('x', 20 * 1024 * 1024)));
        Assert.Contains("16", e.Message);
        Assert.Equal("small", await grain.Echo("small"));
    }

    [Fact]
    public async Task Oversized_result_fails_the_caller_at_once_instead_of_timing_out()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var key = Enumerable.Range(0, 100).Select(i => $"big-{i}").First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("slow", k)) == cluster.Silos[1].Cluster.Self);
        var grain = cluster.Silos[0].Factory.GetGrain<ISlowGrain>(key);
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => await grain.Repeat("xxxxxxxx", 3 * 1024 * 1024));
        Assert.Contains("could not be sent back", e.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Equal("ok", await grain.Echo("ok"));
    }

    [Fact]
    public async Task Killed_silo_is_declared_dead_and_its_grains_answer_from_survivors_with_their_state()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        for (var i = 0; i < 30; i++) await cluster.Silos[i % 3].Factory.GetGrain<IPersistentCounterGrain>($"kill-{i}").Add(i);
        var victim = cluster.Silos[2];
        var started = DateTime.UtcNow;
        await victim.KillAsync();
        await cluster.WaitForViewAsync(2, TimeSpan.FromSeconds(10));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        for (var i = 0; i < 30; i++)
            Assert.Equal(i, await cluster.Silos[i % 2].Factory.GetGrain<IPersistentCounterGrain>($"kill-{i}").Get());
    }

    [Fact]
    public async Task Graceful_stop_hands_grains_off_with_no_failed_calls_and_a_restarted_silo_takes_grains_back()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var writers = new CounterWriters(() => cluster.Silos[0].Factory, "hand");

        // Every one of the 80 grains has answered, so silo 2 hosts some of them when it leaves.
        await writers.AllAnsweredAsync();
        Assert.True(cluster.Silos[2].Runtime.Catalog.Count > 0, "silo 2 hosts none of the grains it is to hand off");
        await cluster.Silos[2].StopAsync();
        await cluster.WaitForViewAsync(2);
        await writers.ProgressAsync("after silo 2 left");
        var rejoined = await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(3);
        await TestCluster.WaitUntilAsync(() => rejoined.Runtime.Catalog.Count > 0, TimeSpan.FromSeconds(20), "the rejoined silo to take grains back");
        await writers.ProgressAsync("after the new silo joined");
        await writers.StopAndCheckAsync(cluster.Silos[1].Factory);
        Assert.True(rejoined.Runtime.Catalog.Count > 0, "the rejoined silo took no grains");
    }

    private sealed class Listener(ConcurrentQueue<string> heard) : IChatObserver
    {
        public void Said(string text) => heard.Enqueue(text);

        public Task SaidAsync(string text)
        {
            heard.Enqueue(text);
            return Task.CompletedTask;
        }
    }
}
