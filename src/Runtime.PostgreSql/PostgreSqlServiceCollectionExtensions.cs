using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.PostgreSql;

/// <summary>Registers the PostgreSQL grain storage, grain journal and reminder table.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>Named options instance that configures the PostgreSQL reminder table.</summary>
    public const string ReminderTableOptionsName = "Reminders";

    /// <summary>Named options instance that configures the PostgreSQL grain journal.</summary>
    public const string GrainJournalOptionsName = "Journal";

    /// <summary>Registers PostgreSQL grain storage under <paramref name="name"/>; options are the named <see cref="PostgreSqlStorageOptions"/> of that name.</summary>
    public static IServiceCollection AddPostgreSqlGrainStorage(this IServiceCollection services, string name, Action<PostgreSqlStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<PostgreSqlStorageOptions>(name).Configure(configure);
        services.AddPostgreSqlStorageMonitor();
        return services.AddGrainStorage(name, provider =>
            new PostgreSqlGrainStorage(provider.GetRequiredService<IOptionsMonitor<PostgreSqlStorageOptions>>().Get(name)));
    }

    /// <summary>Registers the PostgreSQL reminder table, replacing any other; options are the <see cref="ReminderTableOptionsName"/> instance.</summary>
    public static IServiceCollection AddPostgreSqlReminderTable(this IServiceCollection services, Action<PostgreSqlStorageOptions> configure) =>
        services.AddPostgreSqlStorageMonitor().ReplaceSingleton<IReminderTable, PostgreSqlStorageOptions>(ReminderTableOptionsName, configure, options => new PostgreSqlReminderTable(options));

    /// <summary>
    /// Registers the PostgreSQL grain journal, replacing any other; options are the <see cref="GrainJournalOptionsName"/>
    /// instance (the database may be the grain storage's). The container disposes it, which drains its queued writes.
    /// </summary>
    public static IServiceCollection AddPostgreSqlGrainJournal(this IServiceCollection services, Action<PostgreSqlStorageOptions> configure) =>
        services.AddPostgreSqlStorageMonitor().ReplaceSingleton<IGrainJournal, PostgreSqlStorageOptions>(GrainJournalOptionsName, configure, options => new PostgreSqlGrainJournal(options));

    /// <summary>Every PostgreSQL provider reports reachability to the silo's one monitor.</summary>
    internal static IServiceCollection AddPostgreSqlStorageMonitor(this IServiceCollection services) =>
        services.AddStorageMonitor<PostgreSqlStorageOptions>(static (o, monitor) => o.Monitor ??= monitor);
}
