using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Cluster;

/// <summary>
/// A call from another silo to an idle grain runs on the connection's reading thread, which first hands reading to
/// the connection's standby thread: no hop for the call, and neither a blocked grain nor the order of calls suffers.
/// </summary>
public sealed class ReadingThreadTests
{
    private const string Reader = "silo-in ";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string[] KeysOn(TestCluster cluster, int silo, string type, int count)
        => Enumerable.Range(0, 10_000).Select(i => $"{type}-{i}")
            .Where(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId(type, k)) == cluster.Silos[silo].Cluster.Self)
            .Take(count).ToArray();

    [Fact]
    public async Task A_call_from_another_silo_to_an_idle_grain_runs_on_the_connections_reading_thread()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var grain = cluster.Silos[0].Factory.GetGrain<IThreadGrain>(KeysOn(cluster, 1, "thread", 1)[0]);
        // The first call activates the grain (on its pump); the standby thread starts once the connection is accepted.
        var name = await RunOnReaderAsync(() => grain.ThreadName());
        Assert.StartsWith(Reader, name);
    }

    [Fact]
    public async Task A_grain_blocked_on_the_reading_thread_holds_that_thread_and_not_the_connection()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var keys = KeysOn(cluster, 1, "thread", 2);
        var blocker = cluster.Silos[0].Factory.GetGrain<IThreadGrain>(keys[0]);
        var other = cluster.Silos[0].Factory.GetGrain<IThreadGrain>(keys[1]);
        await other.ThreadName();

        // Block a call on the reading thread (a first attempt may run on the pump, before the standby waits).
        ThreadGrain.Gate gate;
        Task<string> blocked;
        var attempt = 0;
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var name = $"{nameof(A_grain_blocked_on_the_reading_thread_holds_that_thread_and_not_the_connection)}-{attempt++}";
            gate = ThreadGrain.Gates.GetOrAdd(name, _ => new ThreadGrain.Gate());
            blocked = blocker.BlockOn(name).AsTask();
            // Awaited, never waited for: this test's code may be running on silo 0's reading thread.
            await gate.Entered.Task.WaitAsync(Patience);
            if (gate.Thread!.StartsWith(Reader)) break;
            gate.Open.Set();
            await blocked.WaitAsync(Patience);
            Assert.True(DateTime.UtcNow < deadline, "no call ran on the reading thread");
        }

        // The connection reads on: calls to other grains of that silo are answered while the reader is held.
        var pings = KeysOn(cluster, 1, "ping", 50);
        var answers = await Task.WhenAll(pings.Select((k, i) => cluster.Silos[0].Factory.GetGrain<IPingGrain>(k).Ping(i).AsTask())).WaitAsync(Patience);
        Assert.Equal(Enumerable.Range(1, 50), answers);
        // With the reader held, the thread now reading has no standby to hand over to: an idle grain's call is queued.
        Assert.DoesNotContain(Reader, await other.ThreadName().AsTask().WaitAsync(Patience));
        Assert.False(blocked.IsCompleted);

        gate.Open.Set();
        Assert.StartsWith(Reader, await blocked.WaitAsync(Patience));
        // The released thread stands by again: calls run on a reading thread once more.
        Assert.StartsWith(Reader, await RunOnReaderAsync(() => other.ThreadName()));
    }

    [Fact]
    public async Task Calls_from_one_silo_to_one_grain_run_in_send_order_when_some_run_on_the_reading_thread()
    {
        await using var cluster = await TestCluster.StartAsync(2);
        var grain = cluster.Silos[0].Factory.GetGrain<IThreadGrain>(KeysOn(cluster, 1, "thread", 1)[0]);
        await grain.ThreadName();
        // Bursts with a pause between them: a burst's last call finds the grain idle and may run on the reader, the
        // ones read meanwhile queue behind it.
        const int bursts = 200, perBurst = 25;
        for (var b = 0; b < bursts; b++)
            await Task.WhenAll(Enumerable.Range(b * perBurst, perBurst).Select(i => grain.Record(i).AsTask())).WaitAsync(Patience);

        var recorded = await grain.Recorded();
        Assert.Equal(Enumerable.Range(0, bursts * perBurst), recorded.Select(r => int.Parse(r[..r.IndexOf(' ')])));
        Assert.Contains(recorded, r => r.Contains(Reader));
        Assert.Contains(recorded, r => !r.Contains(Reader));
    }

    private static async Task<string> RunOnReaderAsync(Func<ValueTask<string>> call)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var name = await call();
            if (name.StartsWith(Reader) || DateTime.UtcNow > deadline) return name;
            await Task.Delay(5);
        }
    }
}
