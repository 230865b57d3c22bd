using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Grains.Nodes;
using Platform.Runtime;
using Platform.Runtime.Hosting;
using Platform.Runtime.Storage;

namespace Platform.Grains.Tests.Nodes;

/// <summary>
/// What goes to one agent (registered checks, TTL reports, deploy orders) passes through the fleet grain to the hub
/// holding the connection. A fresh activation (the grain just moved to another silo) knows a hub only once it renewed:
/// on the real runtime, in process, a push made before that renewal must wait for it, not be dropped.
/// </summary>
public sealed class FleetHolderTests : IAsyncDisposable
{
    private ServiceProvider? _services;
    private IHostedService[] _hosted = [];

    private IGrainFactory Grains => _services!.GetRequiredService<IGrainFactory>();

    /// <summary>Starts the runtime in process with the fleet's orphan grace set to <paramref name="grace"/>.</summary>
    private async Task StartAsync(TimeSpan grace)
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime();
        services.AddGrains(typeof(IFleetGrain).Assembly);
        services.AddMemoryGrainStorage();
        services.AddMemoryGrainJournal();
        services.AddMemoryReminderTable();
        services.AddNodes(o => o.OrphanGrace = grace);
        _services = services.BuildServiceProvider();
        _hosted = [.. _services.GetServices<IHostedService>()];
        foreach (var h in _hosted) await h.StartAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is null) return;
        foreach (var h in _hosted.Reverse()) await h.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    private static NodeChecksPush Checks(string id) => new(1, [new NodeCheckDefinition(id, id, """{"TTL": "1h"}""", false, "critical")]);

    [Fact]
    public async Task A_push_to_a_hub_that_has_not_yet_subscribed_to_a_fresh_fleet_waits_for_its_subscription_and_reaches_it()
    {
        // A grace far longer than the test takes: the hub subscribes well within it.
        await StartAsync(TimeSpan.FromSeconds(30));
        var fleet = Grains.GetGrain<IFleetGrain>($"fresh-{Guid.NewGuid():N}");
        await fleet.Members(); // activated, and no hub has subscribed to this activation
        var hub = new RecordingHub();
        var reference = Grains.CreateObjectReference<IFleetObserver>(hub);

        var push = fleet.PushChecks("silo0/hub", "n1", Checks("reg"));
        var report = fleet.ReportCheck("silo0/hub", "n1", new NodeCheck("reg", "reg", "passing", "ok"));
        var order = fleet.SendDeployOrder("silo0/hub", "n1", new DeployOrder("d1", false, null, "x", TimeSpan.FromMinutes(1)));
        // The fleet answers other calls meanwhile: the waits hold no turn.
        Assert.Empty(await fleet.Members());
        Assert.False(push.IsCompleted);

        await fleet.Subscribe(reference, "silo0/hub", null, null);
        Assert.True(await push.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await report.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await order.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(["checks n1 reg", "deploy n1 d1", "report n1 reg passing"], hub.Calls.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_hub_that_never_subscribes_is_given_up_once_the_grace_from_activation_has_passed()
    {
        await StartAsync(TimeSpan.FromSeconds(1));
        var fleet = Grains.GetGrain<IFleetGrain>($"fresh-{Guid.NewGuid():N}");
        await fleet.Members();
        var clock = Stopwatch.StartNew();

        Assert.False(await fleet.PushChecks("gone/hub", "n1", Checks("reg")).WaitAsync(TimeSpan.FromSeconds(10)));
        // Bounded by the 1 s grace counted from activation, not by the call's own timeout.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        // Past the grace, an unknown hub is answered at once.
        Assert.False(await fleet.ReportCheck("gone/hub", "n1", new NodeCheck("reg", "reg", "passing", "")).WaitAsync(TimeSpan.FromSeconds(1)));

        // A hub subscribing later is reached as before.
        var hub = new RecordingHub();
        await fleet.Subscribe(Grains.CreateObjectReference<IFleetObserver>(hub), "late/hub", null, null);
        Assert.True(await fleet.PushChecks("late/hub", "n2", Checks("other")));
        Assert.Equal(["checks n2 other"], hub.Calls);
    }

    private sealed class RecordingHub : IFleetObserver
    {
        public ConcurrentQueue<string> Calls { get; } = new();

        public Task OnEvents(FleetEventBatch batch) => Task.CompletedTask;

        public Task OnQuery(FleetQuery query, IQueryCollector collector) => Task.CompletedTask;

        public Task OnLeaveRequested(string name) => Task.CompletedTask;

        public Task OnCheckChanged(string name, NodeCheck check) => Task.CompletedTask;

        public Task<bool> OnCheckReport(string name, NodeCheck report)
        {
            Calls.Enqueue($"report {name} {report.Id} {report.Status}");
            return Task.FromResult(true);
        }

        public Task<bool> OnChecksPush(string name, NodeChecksPush checks)
        {
            Calls.Enqueue($"checks {name} {string.Join(',', checks.Checks.Select(c => c.Id))}");
            return Task.FromResult(true);
        }

        public Task<bool> OnDeployOrder(string name, DeployOrder order)
        {
            Calls.Enqueue($"deploy {name} {order.DeployId}");
            return Task.FromResult(true);
        }
    }
}
