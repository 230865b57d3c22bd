using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.PostgreSql;

/// <summary>Registers the PostgreSQL grain storage and reminder table.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>Named options instance that configures the PostgreSQL reminder table.</summary>
    public const string ReminderTableOptionsName = "Reminders";

    /// <summary>Registers PostgreSQL grain storage under <paramref name="name"/>; options are the named <see cref="PostgreSqlStorageOptions"/> of that name.</summary>
    public static IServiceCollection AddPostgreSqlGrainStorage(this IServiceCollection services, string name, Action<PostgreSqlStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<PostgreSqlStorageOptions>(name).Configure(configure);
        return services.AddGrainStorage(name, provider =>
            new PostgreSqlGrainStorage(provider.GetRequiredService<IOptionsMonitor<PostgreSqlStorageOptions>>().Get(name)));
    }

    /// <summary>Registers the PostgreSQL reminder table, replacing any other; options are the <see cref="ReminderTableOptionsName"/> instance.</summary>
    public static IServiceCollection AddPostgreSqlReminderTable(this IServiceCollection services, Action<PostgreSqlStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<PostgreSqlStorageOptions>(ReminderTableOptionsName).Configure(configure);
        services.RemoveAll<IReminderTable>();
        services.AddSingleton<IReminderTable>(provider =>
            new PostgreSqlReminderTable(provider.GetRequiredService<IOptionsMonitor<PostgreSqlStorageOptions>>().Get(ReminderTableOptionsName)));
        return services;
    }
}
