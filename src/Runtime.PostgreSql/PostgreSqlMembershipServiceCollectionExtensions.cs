using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Runtime.Membership;

namespace Platform.Runtime.PostgreSql;

/// <summary>Registers the PostgreSQL membership table.</summary>
public static class PostgreSqlMembershipServiceCollectionExtensions
{
    /// <summary>Named options instance that configures the PostgreSQL membership table.</summary>
    public const string MembershipTableOptionsName = "Membership";

    /// <summary>
    /// Registers the PostgreSQL membership table, replacing any other; options are the <see cref="MembershipTableOptionsName"/>
    /// instance, and the cluster id is <see cref="MembershipOptions.ClusterId"/>.
    /// </summary>
    public static IServiceCollection AddPostgreSqlMembershipTable(this IServiceCollection services, Action<PostgreSqlStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<MembershipOptions>();
        services.AddOptions<PostgreSqlStorageOptions>(MembershipTableOptionsName).Configure(configure);
        services.AddPostgreSqlStorageMonitor();
        services.RemoveAll<IMembershipTable>();
        services.AddSingleton<IMembershipTable>(provider => new PostgreSqlMembershipTable(
            provider.GetRequiredService<IOptionsMonitor<PostgreSqlStorageOptions>>().Get(MembershipTableOptionsName),
            provider.GetRequiredService<IOptions<MembershipOptions>>().Value.ClusterId));
        return services;
    }
}
