using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Runtime;
using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Storage;

namespace Platform.Cluster.Bench;

/// <summary>
/// One silo of the benchmark cluster, built the way the Silo host builds one: runtime, the bench grains,
/// memory grain storage (the echo grain has no state), the PostgreSQL membership table, the cluster with
/// default <see cref="MembershipOptions"/>, started and stopped through its hosted services.
/// </summary>
public sealed class ClusterSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;
    private int _stopped;

    private ClusterSilo(ServiceProvider services)
    {
        _services = services;
        _hosted = [.. services.GetServices<IHostedService>()];
    }

    public static async Task<ClusterSilo> StartAsync(string postgres, string clusterId, int siloPort, string name, ILoggerProvider? log, Platform.Runtime.Transport.SiloTlsOptions? tls = null)
    {
        var services = new ServiceCollection();
        services.AddGrainRuntime(o => o.SiloName = name);
        services.AddGrains(typeof(ClusterSilo).Assembly);
        services.AddMemoryGrainStorage();
        services.AddPostgreSqlMembershipTable(o => o.ConnectionString = postgres);
        services.AddGrainCluster(t =>
        {
            t.Port = siloPort;
            if (tls is not null) t.Tls = tls;
        }, m => m.ClusterId = clusterId);
        if (log is not null)
            services.AddLogging(b => b.ClearProviders().AddProvider(log).SetMinimumLevel(LogLevel.Information));
        var silo = new ClusterSilo(services.BuildServiceProvider());
        foreach (var h in silo._hosted) await h.StartAsync(CancellationToken.None);
        return silo;
    }

    public GrainRuntime Runtime => _services.GetRequiredService<GrainRuntime>();
    public IGrainFactory Factory => Runtime;
    public SiloCluster Cluster => _services.GetRequiredService<SiloCluster>();
    public SiloAddress Self => Cluster.Self;
    public ClusterView View => Cluster.Membership.CurrentView;

    /// <summary>Graceful stop: leave the cluster, hand grains off.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        try
        {
            foreach (var h in _hosted.Reverse()) await h.StopAsync(CancellationToken.None);
        }
        finally
        {
            await _services.DisposeAsync();
        }
    }
}
