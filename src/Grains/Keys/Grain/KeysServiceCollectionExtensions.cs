using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.Grains.Keys;

/// <summary>Registers the keyspace: its options and the silo's watch hub (a hosted service).</summary>
public static class KeysServiceCollectionExtensions
{
    /// <summary>Adds the watch hub and <see cref="KeyspaceOptions"/>; the keyspace grain needs an <c>IGrainJournal</c> registered too.</summary>
    public static IServiceCollection AddKeyspace(this IServiceCollection services, Action<KeyspaceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<KeyspaceOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.HistoryCapacity >= 1 && o.SnapshotEvery >= 1 && o.MaxBatch >= 1 && o.MaxValueBytes >= 1 && o.ExpiryCheckInterval > TimeSpan.Zero,
            "Platform:Keys: HistoryCapacity, SnapshotEvery, MaxBatch and MaxValueBytes must be at least 1 and ExpiryCheckInterval positive");
        services.AddSingleton<KeyWatchHub>();
        services.AddHostedService(provider => provider.GetRequiredService<KeyWatchHub>());
        return services;
    }
}
