using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Storage;

/// <summary>Registers grain storage providers, grain journals and reminder tables.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Registers a grain storage provider under <paramref name="name"/> and the registry that resolves it.</summary>
    public static IServiceCollection AddGrainStorage(this IServiceCollection services, string name, Func<IServiceProvider, IGrainStorage> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);

        services.AddKeyedSingleton<IGrainStorage>(name, (provider, _) => factory(provider));
        services.AddSingleton(new GrainStorageName(name));
        services.TryAddSingleton<IGrainStorageRegistry>(provider => new GrainStorageRegistry(provider, provider.GetServices<GrainStorageName>()));
        return services;
    }

    /// <summary>Registers in-memory grain storage under <paramref name="name"/> (nothing survives the process).</summary>
    public static IServiceCollection AddMemoryGrainStorage(this IServiceCollection services, string name = GrainStorageRegistry.DefaultName) =>
        services.AddGrainStorage(name, _ => new MemoryGrainStorage());

    /// <summary>Registers the in-memory grain journal (nothing survives the process), replacing any other.</summary>
    public static IServiceCollection AddMemoryGrainJournal(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.RemoveAll<IGrainJournal>();
        services.AddSingleton<IGrainJournal, MemoryGrainJournal>();
        return services;
    }

    /// <summary>Registers the in-memory reminder table (nothing survives the process), replacing any other.</summary>
    public static IServiceCollection AddMemoryReminderTable(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.RemoveAll<IReminderTable>();
        services.AddSingleton<IReminderTable, MemoryReminderTable>();
        return services;
    }

    /// <summary>
    /// Registers the silo's <see cref="StorageMonitor"/> and hands it to every instance of <typeparamref name="TOptions"/>
    /// (a durable provider's settings) through <paramref name="attach"/>, so that all its providers report to it.
    /// </summary>
    public static IServiceCollection AddStorageMonitor<TOptions>(this IServiceCollection services, Action<TOptions, StorageMonitor> attach)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(attach);
        services.TryAddSingleton<StorageMonitor>();
        services.AddSingleton<IConfigureOptions<TOptions>>(provider =>
            new ConfigureNamedOptions<TOptions>(null, o => attach(o, provider.GetRequiredService<StorageMonitor>())));
        return services;
    }

    /// <summary>
    /// Registers the one <typeparamref name="TService"/>, replacing any other, as a singleton that
    /// <paramref name="factory"/> builds from the <typeparamref name="TOptions"/> instance named
    /// <paramref name="optionsName"/> (configured by <paramref name="configure"/>). Durable providers register their
    /// reminder table and grain journal this way; the container disposes the instance.
    /// </summary>
    public static IServiceCollection ReplaceSingleton<TService, TOptions>(this IServiceCollection services, string optionsName, Action<TOptions> configure, Func<TOptions, TService> factory)
        where TService : class
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(optionsName);
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentNullException.ThrowIfNull(factory);

        services.AddOptions<TOptions>(optionsName).Configure(configure);
        services.RemoveAll<TService>();
        services.AddSingleton(provider => factory(provider.GetRequiredService<IOptionsMonitor<TOptions>>().Get(optionsName)));
        return services;
    }
}
