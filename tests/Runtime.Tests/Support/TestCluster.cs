using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Support;

/// <summary>
/// Several silos in one process: real TCP transports on loopback, one shared in-memory membership
/// table, shared in-memory storage and reminders (standing in for the PostgreSQL a real cluster shares).
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<ClusterSilo> _silos = [];

    public MemoryMembershipTable Table { get; } = new();
    public MemoryGrainStorage Storage { get; } = new();
    public MemoryReminderTable Reminders { get; } = new();
    public IReadOnlyList<ClusterSilo> Silos => _silos;
    public Action<SiloOptions>? ConfigureSilo { get; init; }

    /// <summary>Transport settings of the silo with the given index (the port is 0 unless set here).</summary>
    public Action<int, TransportOptions>? ConfigureTransport { get; set; }

    /// <summary>Membership settings applied after <see cref="FastMembership"/>.</summary>
    public Action<MembershipOptions>? ConfigureMembership { get; init; }

    /// <summary>More services of the silo with the given index (a log provider, say).</summary>
    public Action<int, IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Membership tuned for tests: detection in a second or two.</summary>
    public static void FastMembership(MembershipOptions o)
    {
        o.IAmAliveInterval = TimeSpan.FromMilliseconds(200);
        o.TableRefreshInterval = TimeSpan.FromMilliseconds(100);
        o.ProbeInterval = TimeSpan.FromMilliseconds(100);
        // A probe waits behind whatever its connection is writing (a 16 MB frame being refused, say), and CI runs
        // on two busy cores: 3 × 500 ms of silence before a suspicion keeps detection fast without false deaths.
        o.ProbeTimeout = TimeSpan.FromMilliseconds(500);
        o.MissedProbesLimit = 3;
        o.IAmAliveStaleAfter = TimeSpan.FromSeconds(3);
    }

    public static async Task<TestCluster> StartAsync(int silos, Action<SiloOptions>? configure = null)
    {
        var cluster = new TestCluster { ConfigureSilo = configure };
        for (var i = 0; i < silos; i++) await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(silos);
        return cluster;
    }

    public async Task<ClusterSilo> AddSiloAsync()
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime(o =>
        {
            o.SiloName = $"silo{_silos.Count}";
            ConfigureSilo?.Invoke(o);
        });
        services.AddGrains(typeof(TestCluster).Assembly);
        services.AddGrainStorage("Default", _ => Storage);
        services.AddSingleton<IReminderTable>(Reminders);
        services.AddSingleton<IMembershipTable>(Table);
        var index = _silos.Count;
        ConfigureServices?.Invoke(index, services);
        ClusterSilo? silo = null;
        services.AddGrainCluster(t =>
        {
            t.Port = 0;
            ConfigureTransport?.Invoke(index, t);
        }, o =>
        {
            FastMembership(o);
            ConfigureMembership?.Invoke(o);
        }, c => c.OnDeclaredDead = () => _ = silo!.KillAsync());
        silo = new ClusterSilo(services.BuildServiceProvider());
        try
        {
            await silo.StartAsync();
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        _silos.Add(silo);
        return silo;
    }

    /// <summary>Waits until every running silo sees exactly <paramref name="active"/> active silos.</summary>
    public async Task WaitForViewAsync(int active, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var running = _silos.Where(s => !s.IsStopped).ToList();
            if (running.All(s => s.Cluster.Membership.CurrentView.ActiveSilos.Count == active)) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"views did not converge on {active} active silos: " + string.Join("; ", running.Select(s => $"{s.Cluster.Self}: {s.Cluster.Membership.CurrentView.ActiveSilos.Count}")));
            await Task.Delay(25);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails naming what was awaited.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _silos) await s.DisposeAsync();
    }
}

/// <summary>One silo of a <see cref="TestCluster"/>.</summary>
public sealed class ClusterSilo(ServiceProvider services) : IAsyncDisposable
{
    private readonly IHostedService[] _hosted = [.. services.GetServices<IHostedService>()];
    private int _stopped;

    public IServiceProvider Services => services;
    public GrainRuntime Runtime => services.GetRequiredService<GrainRuntime>();
    public IGrainFactory Factory => Runtime;
    public SiloCluster Cluster => services.GetRequiredService<SiloCluster>();
    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    public async Task StartAsync()
    {
        foreach (var h in _hosted) await h.StartAsync(CancellationToken.None);
    }

    /// <summary>Graceful stop: leave the cluster, hand grains off.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        foreach (var h in _hosted.Reverse()) await h.StopAsync(CancellationToken.None);
    }

    /// <summary>A crash: connections drop, membership stops writing, nothing is handed off or deactivated.</summary>
    public async Task KillAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        Cluster.Membership.KillForTesting();
        await Cluster.Transport.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (Exception)
        {
            // A killed silo cannot stop gracefully; its services are disposed below all the same.
        }
        await services.DisposeAsync();
    }
}
