using Microsoft.Extensions.DependencyInjection;
using Platform.Grains.Rules;

namespace Platform.Grains.Builds;

/// <summary>Registers <see cref="BuildsOptions"/> and the rules' <see cref="IBuildStarter"/>; the build grains need a grain storage, a reminder table and a grain journal (job logs).</summary>
public static class BuildsServiceCollectionExtensions
{
    public static IServiceCollection AddBuilds(this IServiceCollection services, Action<BuildsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<BuildsOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.Validate() is null, "Platform:Builds: an interval or limit is out of range (see BuildsOptions)");
        services.AddSingleton<IBuildStarter, RuleBuildStarter>();
        return services;
    }
}
