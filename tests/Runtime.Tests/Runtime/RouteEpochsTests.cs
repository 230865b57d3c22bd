using Platform.Runtime.Placement;

namespace Platform.Runtime.Tests.Runtime;

/// <summary>The grace period a silo waits out before confirming that another silo leaves: which senders a drain waits for.</summary>
public sealed class RouteEpochsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_drain_waits_for_the_senders_that_entered_before_it_and_not_for_later_ones()
    {
        var routes = new RouteEpochs();
        await routes.DrainAsync().WaitAsync(Bound);

        var before = routes.Enter();
        var drain = routes.DrainAsync();
        // The drain moved to a new epoch before its first wait, so this sender is not one it waits for.
        var after = routes.Enter();
        Assert.NotEqual(before, after);
        Assert.False(drain.IsCompleted, "the drain returned while a sender that entered before it was still routing");
        Assert.Equal(1, routes.InFlight(before));

        routes.Exit(before);
        await drain.WaitAsync(Bound);
        Assert.Equal(1, routes.InFlight(after));

        var next = routes.DrainAsync();
        Assert.False(next.IsCompleted, "the second drain returned while a sender of the epoch before it was still routing");
        routes.Exit(after);
        await next.WaitAsync(Bound);
        Assert.Equal(0, routes.InFlight(before));
        Assert.Equal(0, routes.InFlight(after));
    }

    [Fact]
    public async Task After_a_drain_no_sender_still_holds_a_view_older_than_the_one_installed_before_it()
    {
        var routes = new RouteEpochs();
        const int Views = 300;
        var view = 0;
        // Senders still routing with each view they read.
        var holding = new int[Views + 1];
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 4).Select(s => Task.Factory.StartNew(() =>
        {
            var random = new Random(s);
            while (!stop.IsCancellationRequested)
            {
                var epoch = routes.Enter();
                var seen = Volatile.Read(ref view);
                Interlocked.Increment(ref holding[seen]);
                Thread.SpinWait(random.Next(1, 2_000));
                if (random.Next(50) == 0) Thread.Yield();
                Interlocked.Decrement(ref holding[seen]);
                routes.Exit(epoch);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        try
        {
            for (var v = 1; v <= Views; v++)
            {
                Volatile.Write(ref view, v);
                await routes.DrainAsync().WaitAsync(Bound);
                for (var older = 0; older < v; older++)
                    Assert.True(Volatile.Read(ref holding[older]) == 0, $"after installing view {v} and draining, a sender still routes with view {older}");
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(senders).WaitAsync(Bound);
        }
        Assert.All(holding, h => Assert.Equal(0, h));
    }
}

