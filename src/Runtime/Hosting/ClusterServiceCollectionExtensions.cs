using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime.Membership;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Hosting;

/// <summary>Makes a silo a member of a cluster: TCP transport, membership table, placement.</summary>
public static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// Adds the cluster side of the silo. An <see cref="IMembershipTable"/> must be registered too
    /// (PostgreSQL for real clusters, <see cref="MemoryMembershipTable"/> for in-process test clusters).
    /// </summary>
    public static IServiceCollection AddGrainCluster(this IServiceCollection services,
        Action<TransportOptions>? transport = null, Action<MembershipOptions>? membership = null, Action<ClusterOptions>? cluster = null)
    {
        services.AddOptions<TransportOptions>();
        services.AddOptions<MembershipOptions>();
        services.AddOptions<ClusterOptions>();
        if (transport is not null) services.Configure(transport);
        if (membership is not null) services.Configure(membership);
        if (cluster is not null) services.Configure(cluster);
        services.AddSingleton<ISiloTransport>(sp => new TcpSiloTransport(
            sp.GetRequiredService<IOptions<TransportOptions>>().Value,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            sp.GetRequiredService<ILogger<TcpSiloTransport>>()));
        services.AddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<GrainRuntime>();
            var transportService = sp.GetRequiredService<ISiloTransport>();
            var clusterOptions = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            return new SiloCluster(runtime, transportService, prober => new MembershipService(
                sp.GetRequiredService<IMembershipTable>(),
                prober,
                transportService.LocalAddress,
                runtime.Options.SiloName,
                clusterOptions.HttpUrl,
                sp.GetRequiredService<IOptions<MembershipOptions>>().Value,
                loggers.CreateLogger<MembershipService>()), clusterOptions, loggers);
        });
        return services;
    }
}
