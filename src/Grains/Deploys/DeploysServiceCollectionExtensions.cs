using Microsoft.Extensions.DependencyInjection;

namespace Platform.Grains.Deploys;

/// <summary>Registers <see cref="DeploysOptions"/>; the deploy grains need a grain storage and a reminder table.</summary>
public static class DeploysServiceCollectionExtensions
{
    public static IServiceCollection AddDeploys(this IServiceCollection services, Action<DeploysOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<DeploysOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.Validate() is null, "Platform:Deploys: a history limit is out of range (see DeploysOptions)");
        return services;
    }
}
