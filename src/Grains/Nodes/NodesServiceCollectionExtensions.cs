using Microsoft.Extensions.DependencyInjection;

namespace Platform.Grains.Nodes;

/// <summary>Registers <see cref="NodesOptions"/>; the fleet grain needs an <c>IGrainJournal</c> and the node grain a grain storage.</summary>
public static class NodesServiceCollectionExtensions
{
    public static IServiceCollection AddNodes(this IServiceCollection services, Action<NodesOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<NodesOptions>();
        if (configure is not null) options.Configure(configure);
        options.Validate(o => o.Validate() is null, "Platform:Nodes: an interval, timeout or limit is out of range (see NodesOptions)");
        return services;
    }
}
