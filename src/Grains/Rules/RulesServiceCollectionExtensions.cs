using Microsoft.Extensions.DependencyInjection;

namespace Platform.Grains.Rules;

/// <summary>Registers <see cref="RulesOptions"/> and the engine's keeper; builds and deploys register <see cref="IBuildStarter"/> and <see cref="IDeployStarter"/> themselves.</summary>
public static class RulesServiceCollectionExtensions
{
    public static IServiceCollection AddRules(this IServiceCollection services, Action<RulesOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RulesOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.Validate() is null, "Platform:Rules: a limit or interval is out of range (see RulesOptions)");
        services.AddHostedService<RuleEngineKeeper>();
        return services;
    }
}
