using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Catalog;
using Platform.Runtime.Hosting;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Outages;

/// <summary>A grain whose activation failed for want of storage backs off instead of trying storage on every call.</summary>
public sealed class ActivationBackoffTests
{
    private static readonly TimeSpan Minimum = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Maximum = TimeSpan.FromSeconds(5);

    private static async Task<(TestSilo Silo, OutageStorage Storage, ManualClock Clock, StorageMonitor Monitor)> StartAsync()
    {
        var clock = new ManualClock();
        var monitor = new StorageMonitor(time: clock);
        var storage = new OutageStorage(monitor);
        var silo = await TestSilo.StartAsync(
            o =>
            {
                o.ActivationBackoffMinimum = Minimum;
                o.ActivationBackoffMaximum = Maximum;
            },
            services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(monitor);
                services.AddGrainStorage(GrainStorageRegistry.DefaultName, _ => storage);
                services.AddMemoryReminderTable();
            });
        return (silo, storage, clock, monitor);
    }

    [Fact]
    public async Task Calls_during_the_backoff_fail_at_once_with_storage_unavailable_and_do_not_touch_storage()
    {
        var (silo, storage, _, _) = await StartAsync();
        await using var _ = silo;
        storage.Down = true;
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("backoff-1");

        var first = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
        for (var i = 0; i < 100; i++)
        {
            var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
            Assert.Equal("storage unavailable, retry later", refused.Message);
        }

        Assert.Equal(1, storage.Reads);
        Assert.Equal("storage unavailable, retry later", first.Message);
        Assert.Contains("192.0.2.1:5432", first.Detail);
    }

    [Fact]
    public async Task After_the_backoff_one_call_tries_again_and_each_failure_doubles_the_wait_up_to_the_maximum()
    {
        var (silo, storage, clock, _) = await StartAsync();
        await using var _ = silo;
        storage.Down = true;
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("backoff-2");
        await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());

        for (var failures = 1; failures <= 8; failures++)
        {
            var nominal = TimeSpan.FromTicks(Math.Min(Maximum.Ticks, Minimum.Ticks << (failures - 1)));
            // Within the shortest jittered wait nothing tries storage; past the longest, the next call does.
            clock.Advance(nominal * 0.79);
            await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
            Assert.Equal(failures, storage.Reads);
            clock.Advance(nominal * 0.42);
            await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
            Assert.Equal(failures + 1, storage.Reads);
        }
    }

    [Fact]
    public async Task Storage_seen_back_lets_the_next_call_activate_without_waiting_for_the_backoff()
    {
        var (silo, storage, clock, monitor) = await StartAsync();
        await using var _ = silo;
        storage.Down = true;
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("backoff-3");
        await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
        for (var i = 0; i < 6; i++)
        {
            clock.Advance(Maximum * 1.2);
            await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
        }
        Assert.False(monitor.IsReachable);

        // Another user of the same storage succeeds: the monitor sees it back, and the grain need not wait out its 5 s.
        storage.Down = false;
        await silo.Factory.GetGrain<IPersistentCounterGrain>("other").Add(1);
        Assert.True(monitor.IsReachable);

        Assert.Equal(2, await grain.Add(2));
        Assert.Equal(2, await grain.Get());
    }

    [Fact]
    public async Task Calls_arriving_while_one_activation_tries_wait_for_it_instead_of_trying_storage_themselves()
    {
        var (silo, storage, clock, _) = await StartAsync();
        await using var _ = silo;
        storage.Down = true;
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("backoff-4");
        await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
        clock.Advance(Minimum * 1.21);

        storage.Down = false;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.Gate = gate;
        var calls = Enumerable.Range(0, 50).Select(i => grain.Add(1)).ToList();
        storage.Gate = null;
        gate.SetResult();
        var results = await Task.WhenAll(calls);

        Assert.Equal(2, storage.Reads);
        Assert.Equal(Enumerable.Range(1, 50), results.Order());
    }

    [Fact]
    public async Task A_grain_that_activates_and_then_fails_a_write_for_want_of_storage_keeps_growing_its_wait()
    {
        var (silo, storage, clock, _) = await StartAsync();
        await using var _ = silo;
        var grain = silo.Factory.GetGrain<IPersistentCounterGrain>("backoff-5");
        for (var failures = 1; failures <= 4; failures++)
        {
            // Activation reads fine; the write is refused, and the grain deactivates to read its state afresh later.
            storage.Down = false;
            Assert.Equal(0, await grain.Get());
            storage.Down = true;
            await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Add(1));
            await grain.DeactivateForStorage();
            // The back-off starts when the deactivation ends, on the activation's thread: the clock moves after that.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (silo.Runtime.ActivationCount != 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the grain did not deactivate");
                await Task.Delay(5);
            }
            var reads = storage.Reads;
            var nominal = TimeSpan.FromTicks(Minimum.Ticks << (failures - 1));
            clock.Advance(nominal * 0.79);
            await Assert.ThrowsAsync<StorageUnavailableException>(() => grain.Get());
            Assert.Equal(reads, storage.Reads);
            clock.Advance(nominal * 0.42);
        }
    }

    [Fact]
    public void The_wait_doubles_from_the_minimum_to_the_maximum_and_jitter_stays_within_20_percent()
    {
        var backoff = new ActivationBackoff(new SiloOptions { ActivationBackoffMinimum = Minimum, ActivationBackoffMaximum = Maximum }, new ManualClock(), null);

        Assert.Equal(Minimum * 0.8, backoff.Delay(1, 0));
        Assert.Equal(Minimum * 1.2, backoff.Delay(1, 1));
        Assert.Equal(Minimum * 2, backoff.Delay(2, 0.5));
        Assert.Equal(Minimum * 16, backoff.Delay(5, 0.5));
        Assert.Equal(Maximum, backoff.Delay(6, 0.5));
        Assert.Equal(Maximum * 1.2, backoff.Delay(1000, 1));
    }

    [Fact]
    public void A_maximum_below_the_minimum_is_refused_naming_both()
    {
        var error = Assert.Throws<ArgumentException>(() => new SiloOptions { ActivationBackoffMinimum = Maximum, ActivationBackoffMaximum = Minimum }.Validate());

        Assert.Contains("ActivationBackoffMaximum", error.Message);
        Assert.Contains("ActivationBackoffMinimum", error.Message);
    }
}
