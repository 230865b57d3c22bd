using System.Collections.Concurrent;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Runtime;

public sealed class ObserverTests
{
    private sealed class Listener : IChatObserver
    {
        public readonly ConcurrentQueue<string> Heard = new();
        public TaskCompletionSource? Gate;

        public void Said(string text) => Heard.Enqueue(text);

        public async Task SaidAsync(string text)
        {
            if (Gate is not null) await Gate.Task;
            Heard.Enqueue(text);
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Grain_pushes_to_subscribed_observers_in_order()
    {
        await using var silo = await TestSilo.StartAsync();
        var room = silo.Factory.GetGrain<IChatRoomGrain>("room-1");
        var a = new Listener();
        var b = new Listener();
        await room.Join(silo.Factory.CreateObjectReference<IChatObserver>(a));
        await room.Join(silo.Factory.CreateObjectReference<IChatObserver>(b));
        for (var i = 0; i < 20; i++) Assert.Equal(2, await room.Say($"m{i}"));
        await Eventually(() => a.Heard.Count == 20 && b.Heard.Count == 20, "all messages");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}"), a.Heard);
    }

    [Fact]
    public async Task Deleted_observer_is_dropped_and_never_blocks_the_grain()
    {
        await using var silo = await TestSilo.StartAsync();
        var room = silo.Factory.GetGrain<IChatRoomGrain>("room-2");
        var live = new Listener();
        var dead = new Listener();
        var deadRef = silo.Factory.CreateObjectReference<IChatObserver>(dead);
        await room.Join(silo.Factory.CreateObjectReference<IChatObserver>(live));
        await room.Join(deadRef);
        silo.Factory.DeleteObjectReference(deadRef);

        await room.Say("hello");
        await Eventually(() => live.Heard.Count == 1, "live observer");
        Assert.Equal(1, await room.Subscribers());
        Assert.Empty(dead.Heard);
    }

    [Fact]
    public async Task Slow_observer_does_not_hold_the_grain_turn()
    {
        await using var silo = await TestSilo.StartAsync();
        var room = silo.Factory.GetGrain<IChatRoomGrain>("room-3");
        var slow = new Listener { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var fast = new Listener();
        await room.Join(silo.Factory.CreateObjectReference<IChatObserver>(slow));
        await room.Join(silo.Factory.CreateObjectReference<IChatObserver>(fast));
        for (var i = 0; i < 5; i++) await room.Say($"m{i}").WaitAsync(TimeSpan.FromSeconds(2));
        await Eventually(() => fast.Heard.Count == 5, "fast observer");
        Assert.Empty(slow.Heard);
        slow.Gate.SetResult();
        await Eventually(() => slow.Heard.Count == 5, "slow observer catches up");
    }

    [Fact]
    public async Task A_grain_can_subscribe_to_another_grain_as_an_observer()
    {
        await using var silo = await TestSilo.StartAsync();
        var room = silo.Factory.GetGrain<IChatRoomGrain>("room-4");
        var logger = silo.Factory.GetGrain<IChatLoggerGrain>("logger-1");
        await room.Join(logger);
        await room.Say("one");
        await room.Say("two");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await logger.Logged()).Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(["one", "two"], await logger.Logged());
    }
}
