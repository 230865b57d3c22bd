using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Runtime.Messaging;

namespace Platform.Runtime.Tests.Runtime;

/// <summary>The deadline wheel driven by hand: which callers a sweep times out, and with which use of them.</summary>
public sealed class DeadlineWheelTests
{
    private sealed class Caller : PendingResponse
    {
        public readonly ConcurrentQueue<int> TimedOut = new();
        internal override void TimeOut(TimeSpan timeout, int epoch) => TimedOut.Enqueue(epoch);
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public void A_sweep_times_out_the_callers_still_registered_once_and_only_after_their_deadline()
    {
        using var wheel = new DeadlineWheel(TimeSpan.FromSeconds(2), sweep: false);
        var waiting = new Caller { Epoch = 3 };
        var answered = new Caller();
        wheel.Register(waiting);
        wheel.Register(answered);
        wheel.Unregister(answered);

        wheel.Sweep(Stopwatch.GetTimestamp() + Ticks(TimeSpan.FromSeconds(1)));
        Assert.Empty(waiting.TimedOut);

        wheel.Sweep(waiting.DeadlineTimestamp + Ticks(TimeSpan.FromMilliseconds(250)));
        Assert.Equal([3], waiting.TimedOut);
        Assert.Empty(answered.TimedOut);
        Assert.Null(waiting.DeadlineList);

        // Taken out by the sweep: a late answer's unregistering is a no-op, and a second sweep finds nothing.
        wheel.Unregister(waiting);
        wheel.Sweep(waiting.DeadlineTimestamp + Ticks(TimeSpan.FromSeconds(3)));
        Assert.Single(waiting.TimedOut);
    }

    [Fact]
    public void Callers_registered_and_answered_from_many_threads_leave_exactly_the_unanswered_ones_to_time_out()
    {
        using var wheel = new DeadlineWheel(TimeSpan.FromSeconds(1), sweep: false);
        var callers = Enumerable.Range(0, 20_000).Select(i => new Caller { Epoch = i }).ToArray();
        // Registered on one thread each, answered (every other one) from another: the lists of different cores.
        Parallel.For(0, callers.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => wheel.Register(callers[i]));
        Parallel.For(0, callers.Length / 2, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => wheel.Unregister(callers[2 * i]));

        wheel.Sweep(callers.Max(c => c.DeadlineTimestamp) + Ticks(TimeSpan.FromMilliseconds(250)));

        for (var i = 0; i < callers.Length; i++)
        {
            if (i % 2 == 0) Assert.Empty(callers[i].TimedOut);
            else Assert.Equal([i], callers[i].TimedOut);
        }
    }

    [Fact]
    public void A_deadline_more_than_a_lap_away_stays_when_its_slot_comes_round_early()
    {
        // 1,024 slots of 100 ms: a 200 s deadline shares its slot with deadlines about 97.6 s and 302.4 s away.
        using var wheel = new DeadlineWheel(TimeSpan.FromSeconds(200), sweep: false);
        var caller = new Caller();
        wheel.Register(caller);

        wheel.Sweep(caller.DeadlineTimestamp - Ticks(TimeSpan.FromSeconds(102.4)) + Ticks(TimeSpan.FromMilliseconds(250)));
        Assert.Empty(caller.TimedOut);

        wheel.Sweep(caller.DeadlineTimestamp + Ticks(TimeSpan.FromMilliseconds(250)));
        Assert.Single(caller.TimedOut);
    }
}
