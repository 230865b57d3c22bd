using Platform.Runtime.Catalog;
using Platform.Runtime.Timers;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Runtime.Tests.Runtime;

public sealed class LifecycleTests
{
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task State_survives_deactivation_and_is_written_on_deactivate()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("persist-1");
        Assert.Equal(5, await grain.Add(5));
        await grain.Deactivate();
        await Eventually(() => Task.FromResult(PersistentCounterGrain.ActivationsByKey.GetValueOrDefault("persist-1") == 1 && silo.Runtime.ActivationCount == 0), "deactivation");
        Assert.Equal(8, await grain.Add(3));
        Assert.Equal(2, await grain.Activations());
        Assert.Equal(1, await grain.Deactivations());
    }

    [Fact]
    public async Task Stale_etag_write_throws_inconsistent_state_naming_the_grain()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("conflict-1");
        await grain.Add(1);
        var etag = await grain.ETag();
        // Another writer (a duplicate activation elsewhere) writes behind this activation's back.
        var storage = silo.Services.GetRequiredService<IGrainStorageRegistry>().Get(null);
        await storage.WriteAsync("persistentcounter", "conflict-1", "counter", "{\"Value\":100}"u8.ToArray(), etag);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Add(1));
        Assert.Contains("persistentcounter/conflict-1", e.Message);

        // The stale activation is dropped: the next call reads the newer state and succeeds.
        Assert.Equal(101, await grain.Add(1));
    }

    [Fact]
    public async Task Explicit_deactivation_runs_OnDeactivate_and_next_call_activates_a_new_instance()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Factory.GetGrain<ILifecycleGrain>("explicit");
        var first = await grain.WhoAmI();
        await grain.DeactivateMe();
        await Eventually(() => Task.FromResult(LifecycleGrain.Events.Contains($"deactivate explicit {DeactivationReason.ApplicationRequested}")), "OnDeactivateAsync");
        var second = await grain.WhoAmI();
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task A_new_activation_told_to_leave_before_its_first_call_is_queued_leaves_the_catalog_and_the_call_is_answered()
    {
        await using var silo = await TestSilo.StartAsync();
        var id = new GrainId("persistentcounter", "left-early");

        // The interleaving of a view change with a caller: the caller has created the activation, and before it queues
        // its call the view change tells that activation to leave. The caller then looks the grain up again.
        var abandoned = silo.Runtime.Catalog.GetOrCreate(id);
        abandoned.RequestDeactivation(DeactivationReason.PlacementChanged);

        Assert.True(abandoned.Deactivated.IsCompleted);
        Assert.False(silo.Runtime.Catalog.TryGet(id, out _), "an activation that never ran stayed in the catalog after it was told to leave");
        // Off the test's thread: before this was fixed, the call retried against the abandoned activation forever.
        var answer = Task.Run(async () => await silo.Factory.GetGrain<IPersistentCounterGrain>("left-early").Add(4));
        Assert.Equal(4, await answer.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(silo.Runtime.Catalog.TryGet(id, out var fresh));
        Assert.NotSame(abandoned, fresh);
    }

    [Fact]
    public async Task Idle_activation_is_collected_after_the_configured_age()
    {
        await using var silo = await TestSilo.StartAsync(o =>
        {
            o.CollectionAge = TimeSpan.FromMilliseconds(300);
            o.CollectionQuantum = TimeSpan.FromMilliseconds(50);
        });
        var grain = silo.Factory.GetGrain<ILifecycleGrain>("idle");
        await grain.WhoAmI();
        Assert.Equal(1, silo.Runtime.ActivationCount);
        await Eventually(() => Task.FromResult(LifecycleGrain.Events.Contains($"deactivate idle {DeactivationReason.IdleCollection}")), "idle collection");
        Assert.Equal(0, silo.Runtime.ActivationCount);
    }

    [Fact]
    public async Task Graceful_stop_deactivates_every_grain_and_writes_its_state()
    {
        var storage = new MemoryGrainStorage();
        var silo = await TestSilo.StartAsync(configure: s => s.AddGrainStorage("Default", _ => storage).AddMemoryReminderTable());
        for (var i = 0; i < 20; i++) await silo.Factory.GetGrain<IPersistentCounterGrain>($"stop-{i}").Add(i);
        await silo.DisposeAsync();
        for (var i = 0; i < 20; i++)
        {
            var stored = await storage.ReadAsync("persistentcounter", $"stop-{i}", "counter");
            Assert.NotNull(stored);
            Assert.Contains("\"Deactivations\":1", System.Text.Encoding.UTF8.GetString(stored.Value.Data.Span));
        }
    }

    [Fact]
    public async Task Timer_ticks_inside_the_grain_turn_and_stops_with_deactivation()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Factory.GetGrain<ITimerGrain>("t");
        await grain.Start(TimeSpan.FromMilliseconds(20));
        await Eventually(async () => await grain.Ticks() >= 5, "five timer ticks");
        Assert.Equal(1, await grain.MaxConcurrent());
    }

    [Fact]
    public async Task Reminder_fires_and_reactivates_its_grain_and_stops_when_unregistered()
    {
        var clock = new ManualClock();
        var period = TimeSpan.FromMilliseconds(200);
        await using var silo = await TestSilo.StartAsync(o => o.MinimumReminderPeriod = TimeSpan.FromMilliseconds(100), s => s
            .AddMemoryGrainStorage()
            .AddMemoryReminderTable()
            .AddSingleton<TimeProvider>(clock));
        var grain = silo.Factory.GetGrain<IReminderGrain>("rem-1");
        int Ticks() => ReminderGrain.Ticks.Count(t => t.Key == "rem-1");

        await grain.Register("beat", TimeSpan.Zero, period);
        // Time moves only here, a period at a time; a tick re-arms once the grain has taken the one before.
        await Eventually(() =>
        {
            clock.Advance(period);
            return Task.FromResult(Ticks() >= 3);
        }, "three reminder ticks");

        // The grain takes calls in order: a tick fired before this call has been taken when it returns.
        Assert.True(await grain.Unregister("beat"));
        var atUnregister = Ticks();
        Assert.Equal(0, silo.Services.GetRequiredService<ReminderService>().Count);
        for (var i = 0; i < 10; i++) clock.Advance(period);
        // Likewise, a tick fired by those ten periods would have been taken before this call returns.
        Assert.False(await grain.Unregister("beat"));
        Assert.Equal(atUnregister, Ticks());
    }

    [Fact]
    public async Task Reminder_period_below_minimum_is_rejected_with_the_setting_named()
    {
        await using var silo = await TestSilo.StartAsync();
        var grain = silo.Factory.GetGrain<IReminderGrain>("rem-2");
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => grain.Register("fast", TimeSpan.Zero, TimeSpan.FromMilliseconds(10)));
        Assert.Contains("MinimumReminderPeriod", e.Message);
    }
}
