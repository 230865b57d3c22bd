using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Runtime.Invocation;
using Platform.Runtime.Statistics;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Hosting;

/// <summary>Registers the grain runtime in a host.</summary>
public static class RuntimeServiceCollectionExtensions
{
    /// <summary>Adds the runtime, its statistics, reminders and the hosted service that starts and gracefully stops it.</summary>
    public static IServiceCollection AddGrainRuntime(this IServiceCollection services, Action<SiloOptions>? configure = null)
    {
        services.AddOptions<SiloOptions>();
        if (configure is not null) services.Configure(configure);
        services.AddLogging();
        services.TryAddSingleton<GrainRuntime>();
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<GrainRuntime>());
        services.TryAddSingleton<IRuntimeStatistics, RuntimeStatistics>();
        services.TryAddSingleton<ReminderService>();
        services.TryAddSingleton<Storage.StorageMonitor>();
        // First in the list: started before the web host, stopped after it, so HTTP drains before grains deactivate.
        if (!services.Any(d => d.ImplementationType == typeof(SiloLifecycleService)))
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService, SiloLifecycleService>());
        return services;
    }

    /// <summary>Registers the grains and grain interfaces generated in <paramref name="assemblies"/>.</summary>
    public static IServiceCollection AddGrains(this IServiceCollection services, params Assembly[] assemblies)
    {
        foreach (var a in assemblies) GrainTypeRegistry.EnsureLoaded(a);
        return services;
    }
}
