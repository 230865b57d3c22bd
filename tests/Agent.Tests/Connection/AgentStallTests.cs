using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Connection;
using Platform.Agent.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests.Connection;

/// <summary>
/// The silo's silence is counted only while the agent itself runs on schedule: an agent that was paused or starved of
/// CPU does not drop a silo for the pongs it could not read, yet still drops one that stays silent once it runs again.
/// </summary>
public sealed class AgentStallTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private sealed class Session : IAgentSession
    {
        public int Welcomes;

        public string AgentId { get; } = Guid.NewGuid().ToString("N");

        public HelloFrame CreateHello() => new("node-1", "10.0.0.7", 7946, new Dictionary<string, string>(), AgentId, 5, 0);

        public ValueTask OnWelcomeAsync(WelcomeFrame welcome, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Welcomes);
            return ValueTask.CompletedTask;
        }

        public ValueTask OnFrameAsync(AgentFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class Rig(FakeSilo silo, ManualTimeProvider time, ConcurrentQueue<string> reasons)
    {
        public ConcurrentQueue<string> Reasons => reasons;

        /// <summary>Waits for the heartbeat loop to arm its next interval, so that the clock moves it.</summary>
        public Task Armed() => Eventually.True(() => time.HasTimerDueIn(Interval), "the heartbeat's next interval armed");

        /// <summary>Waits for ping <paramref name="count"/> to reach the silo, then for the next interval to be armed.</summary>
        public async Task Pinged(int count)
        {
            await Eventually.True(() => silo.ReceivedOf<PingFrame>().Count() >= count || !Reasons.IsEmpty, $"ping {count}");
            Assert.True(Reasons.IsEmpty, $"the agent left the silo before ping {count}: {string.Join("; ", Reasons)}");
            await Armed();
        }
    }

    private static async Task WithAgent(bool answerPings, Func<Rig, ManualTimeProvider, Task> body, int pongAfterMs = 0)
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.HeartbeatIntervalMs = (int)Interval.TotalMilliseconds;
        silo.AnswerPings = answerPings;
        silo.PongAfterMs = pongAfterMs;
        var time = new ManualTimeProvider();
        var session = new Session();
        var connection = new AgentConnection(new AgentConnectionOptions
        {
            Servers = [silo.Url], HeartbeatInterval = Interval, ConnectTimeout = TimeSpan.FromSeconds(30), TimeProvider = time,
        }, session, NullLogger.Instance);
        var reasons = new ConcurrentQueue<string>();
        connection.Disconnected += (_, reason) => reasons.Enqueue(reason);
        using var stop = new CancellationTokenSource();
        var running = connection.RunAsync(stop.Token);
        await Eventually.True(() => Volatile.Read(ref session.Welcomes) == 1, "a welcome");
        var rig = new Rig(silo, time, reasons);
        await rig.Armed();
        await body(rig, time);
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_agent_that_stalled_for_ten_intervals_keeps_a_silo_that_answers()
    {
        await WithAgent(answerPings: true, async (rig, time) =>
        {
            time.Advance(Interval);
            await rig.Pinged(1);

            // Ten intervals without running: the silo heard no ping and the agent read no pong, three times the limit.
            time.Stall(Interval * 10);
            await rig.Pinged(2);
            time.Advance(Interval);
            await rig.Pinged(3);
            Assert.True(rig.Reasons.IsEmpty, string.Join("; ", rig.Reasons));
        });
    }

    [Fact]
    public async Task After_a_stall_a_silo_that_stays_silent_is_left_after_three_intervals_on_schedule()
    {
        await WithAgent(answerPings: false, async (rig, time) =>
        {
            time.Stall(Interval * 10);
            await rig.Pinged(1);
            // Silent for 100, 200 and then 300 ms of the agent's own running time: not past the limit yet.
            time.Advance(Interval);
            await rig.Pinged(2);
            time.Advance(Interval);
            await rig.Pinged(3);

            time.Advance(Interval);
            await Eventually.True(() => !rig.Reasons.IsEmpty, "the agent to leave the silent silo");
            Assert.Contains("silent", rig.Reasons.First());
        });
    }

    [Fact]
    public async Task A_silo_that_answers_pings_only_after_a_quiet_spell_is_given_that_much_more_silence()
    {
        // The welcome says the silo waits 150 ms of quiet before a pong: the limit is 3 intervals + 150 ms = 450 ms.
        await WithAgent(answerPings: false, async (rig, time) =>
        {
            for (var ping = 1; ping <= 4; ping++)
            {
                time.Advance(Interval);
                await rig.Pinged(ping);
            }

            time.Advance(Interval);
            await Eventually.True(() => !rig.Reasons.IsEmpty, "the agent to leave the silent silo");
            Assert.Contains("silent for 500 ms (limit 450 ms", rig.Reasons.First());
        }, pongAfterMs: 150);
    }
}
