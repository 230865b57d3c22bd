using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Runtime;

public sealed class SchedulingTests : IAsyncLifetime
{
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(o => o.ResponseTimeout = TimeSpan.FromSeconds(20));
    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task Thousand_concurrent_calls_to_an_awaiting_counter_end_at_exactly_1000_without_overlapping_turns()
    {
        var counter = _silo.Factory.GetGrain<ICounterGrain>("c1");
        var calls = Enumerable.Range(0, 1000).Select(_ => Task.Run(() => counter.Increment())).ToArray();
        var results = await Task.WhenAll(calls);

        Assert.Equal(1000, await counter.Get());
        Assert.Equal(1, await counter.MaxConcurrentTurns());
        // Every increment saw a distinct value: no lost update.
        Assert.Equal(Enumerable.Range(1, 1000), results.Order());
    }

    [Fact]
    public async Task Reentrant_grain_interleaves_requests_at_await_points()
    {
        var grain = _silo.Factory.GetGrain<IReentrantGrain>("r1");
        // Each call waits until all five arrived: only possible if they interleave.
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => grain.WaitForPeers(5)));
        Assert.All(results, r => Assert.Equal(5, r));
    }

    [Fact]
    public async Task Always_interleave_method_runs_while_a_non_reentrant_request_is_suspended()
    {
        var grain = _silo.Factory.GetGrain<IInterleavingGrain>("i1");
        var blocked = grain.Block();
        await Task.Delay(50);
        Assert.False(blocked.IsCompleted);
        await grain.Release().WaitAsync(TimeSpan.FromSeconds(5));
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Read_only_methods_interleave_with_each_other()
    {
        var grain = _silo.Factory.GetGrain<IInterleavingGrain>("i2");
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => grain.ReadWhileOthersRead(3))).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.All(results, r => Assert.Equal(3, r));
    }

    [Fact]
    public async Task Non_reentrant_grain_queues_a_second_request_until_the_first_finishes()
    {
        var grain = _silo.Factory.GetGrain<IInterleavingGrain>("i3");
        var first = grain.Block();
        var second = grain.Block();
        await Task.Delay(100);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        await grain.Release();
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(second.IsCompleted);
        await grain.Release();
        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_grain_that_awaits_answers_its_caller_within_its_own_turn_without_a_thread_pool_hop()
    {
        var grain = _silo.Factory.GetGrain<IInterleavingGrain>("turn");
        // Off xunit's synchronization context, which would take the caller's continuation: the caller resumes
        // wherever the response is given.
        var inside = await Task.Run(async () =>
        {
            var blocked = grain.Block();
            var resumed = ResumeAndLook(blocked);
            await grain.Release();
            return await resumed;
        });
        // Block's rest runs in the activation's pump, and nothing else waits there: the response is given in that
        // turn and the caller resumes under the pump's frame. Queued to the thread pool, it would not.
        Assert.True(inside);
    }

    [Fact]
    public async Task A_grain_with_requests_waiting_lets_its_caller_resume_off_its_turn()
    {
        var grain = _silo.Factory.GetGrain<IInterleavingGrain>("busy-turn");
        var inside = await Task.Run(async () =>
        {
            var first = grain.Block();
            var second = grain.Block();  // queued behind the first
            var resumed = ResumeAndLook(first);
            await grain.Release();
            var result = await resumed;
            await grain.Release();
            await second;
            return result;
        });
        // The first Block ends while the second waits: its caller's code must not hold the activation's thread.
        Assert.False(inside);
    }

    private static async Task<bool> ResumeAndLook(Task call)
    {
        await call;
        return new System.Diagnostics.StackTrace().GetFrames().Any(f => f.GetMethod()?.DeclaringType?.Name == "ActivationData");
    }

    [Fact]
    public async Task Grain_calling_another_grain_gets_its_result()
    {
        var a = _silo.Factory.GetGrain<IPingGrain>("a");
        Assert.Equal(42, await a.PingOther("b", 41));
    }

    [Fact]
    public async Task One_way_call_returns_at_once_and_still_runs()
    {
        var grain = _silo.Factory.GetGrain<IPingGrain>("oneway");
        for (var i = 0; i < 10; i++) await grain.Fire(1);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await grain.Fired() < 10 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(10, await grain.Fired());
    }

    [Fact]
    public async Task Exception_thrown_by_a_grain_reaches_the_caller_with_type_and_message()
    {
        var grain = _silo.Factory.GetGrain<IFailingGrain>("f");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw("boom 17"));
        Assert.Equal("boom 17", e.Message);
        var a = await Assert.ThrowsAsync<ArgumentException>(() => grain.ThrowArgument("widget"));
        Assert.Equal("widget", a.ParamName);
        // The grain stays usable after throwing.
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw("again"));
    }

    [Fact]
    public async Task Stateless_worker_runs_requests_for_one_key_in_parallel_up_to_its_pool_size()
    {
        WorkerGrain.MaxConcurrent = 0;
        var worker = _silo.Factory.GetGrain<IWorkerGrain>("w");
        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => worker.Work(TimeSpan.FromMilliseconds(200))));
        Assert.InRange(WorkerGrain.MaxConcurrent, 2, 4);
    }
}

public sealed class DeadlineTests
{
    [Fact]
    public async Task Call_past_its_deadline_fails_with_a_timeout_error_naming_the_grain()
    {
        await using var silo = await TestSilo.StartAsync(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(300));
        var grain = silo.Factory.GetGrain<ISlowGrain>("s");
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<TimeoutException>(() => grain.Sleep(TimeSpan.FromSeconds(3)));
        var elapsed = DateTime.UtcNow - started;
        Assert.Contains("slow/s", e.Message);
        Assert.Contains("Sleep", e.Message);
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Call_queued_behind_a_slow_request_times_out_too()
    {
        await using var silo = await TestSilo.StartAsync(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(300));
        var grain = silo.Factory.GetGrain<ISlowGrain>("q");
        var slow = grain.Sleep(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<TimeoutException>(async () => await grain.Echo("x"));
        await Assert.ThrowsAsync<TimeoutException>(() => slow);
    }
}
