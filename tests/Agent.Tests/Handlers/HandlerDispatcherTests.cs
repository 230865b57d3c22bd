using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Handlers;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Handlers;

public sealed class HandlerDispatcherTests
{
    private static HandlerDispatcher Dispatcher(int concurrency, params string[] handlers)
        => new(handlers.SelectMany(EventScript.Parse).ToList(), new HandlerProcess(TimeProvider.System, NullLogger.Instance),
            () => ("web-1", new Dictionary<string, string>()), null, concurrency, NullLogger.Instance);

    [Fact]
    public async Task With_one_at_a_time_events_are_handled_in_order()
    {
        using var dir = new TempDir();
        var log = dir.File("order.log");
        await using var dispatcher = Dispatcher(1, $"user=echo $SERF_USER_LTIME >> {log}");
        var done = new ConcurrentQueue<ulong>();
        for (ulong i = 1; i <= 5; i++)
            dispatcher.Enqueue(new UserHandlerEvent("e", [], i, false), (e, _) => { done.Enqueue(((UserHandlerEvent)e).LTime); return Task.CompletedTask; });

        await Eventually.True(() => done.Count == 5, "five events handled");
        Assert.Equal("1\n2\n3\n4\n5\n", File.ReadAllText(log));
        Assert.Equal([1UL, 2, 3, 4, 5], done.ToArray());
    }

    [Fact]
    public async Task Handler_concurrency_bounds_how_many_run_at_once()
    {
        using var dir = new TempDir();
        var log = dir.File("overlap.log");
        await using var dispatcher = Dispatcher(2, $"user=echo start >> {log}; sleep 0.3; echo end >> {log}");
        var done = 0;
        for (ulong i = 1; i <= 4; i++)
            dispatcher.Enqueue(new UserHandlerEvent("e", [], i, false), (_, _) => { Interlocked.Increment(ref done); return Task.CompletedTask; });

        await Eventually.True(() => Volatile.Read(ref done) == 4, "four events handled");
        var running = 0;
        var most = 0;
        foreach (var line in File.ReadAllLines(log))
        {
            running += line == "start" ? 1 : -1;
            most = Math.Max(most, running);
        }
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task A_slow_user_handler_does_not_hold_a_query_back()
    {
        await using var dispatcher = Dispatcher(1, "user=sleep 60", "query:ping=echo pong");
        var userDone = false;
        dispatcher.Enqueue(new UserHandlerEvent("slow", [], 1, false), (_, _) => { userDone = true; return Task.CompletedTask; });
        var answered = new TaskCompletionSource<HandlerResult>();
        dispatcher.Enqueue(new QueryHandlerEvent("q1", "ping", [], 2, DateTimeOffset.MaxValue), (_, results) =>
        {
            answered.SetResult(Assert.Single(results));
            return Task.CompletedTask;
        });

        var result = await answered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("pong\n", Encoding.UTF8.GetString(result.Output));
        Assert.False(userDone);
    }

    [Fact]
    public async Task Every_accepting_handler_runs_in_configuration_order()
    {
        await using var dispatcher = Dispatcher(1, "user:deploy=echo first", "user:other=echo never", "echo second");
        var results = new TaskCompletionSource<IReadOnlyList<HandlerResult>>();
        dispatcher.Enqueue(new UserHandlerEvent("deploy", [], 1, false), (_, r) => { results.SetResult(r); return Task.CompletedTask; });

        var runs = await results.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["first\n", "second\n"], runs.Select(r => Encoding.UTF8.GetString(r.Output)));
    }
}
