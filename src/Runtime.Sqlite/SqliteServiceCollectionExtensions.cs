using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Sqlite;

/// <summary>Registers the SQLite grain storage and reminder table.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>Named options instance that configures the SQLite reminder table.</summary>
    public const string ReminderTableOptionsName = "Reminders";

    /// <summary>Registers SQLite grain storage under <paramref name="name"/>; options are the named <see cref="SqliteStorageOptions"/> of that name.</summary>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<SqliteStorageOptions>(name).Configure(configure);
        return services.AddGrainStorage(name, provider =>
            new SqliteGrainStorage(provider.GetRequiredService<IOptionsMonitor<SqliteStorageOptions>>().Get(name)));
    }

    /// <summary>Registers the SQLite reminder table, replacing any other; options are the <see cref="ReminderTableOptionsName"/> instance.</summary>
    public static IServiceCollection AddSqliteReminderTable(this IServiceCollection services, Action<SqliteStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<SqliteStorageOptions>(ReminderTableOptionsName).Configure(configure);
        services.RemoveAll<IReminderTable>();
        services.AddSingleton<IReminderTable>(provider =>
            new SqliteReminderTable(provider.GetRequiredService<IOptionsMonitor<SqliteStorageOptions>>().Get(ReminderTableOptionsName)));
        return services;
    }
}
