using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Runtime.Storage;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Sqlite;

/// <summary>Registers the SQLite grain storage, grain journal and reminder table.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>Named options instance that configures the SQLite reminder table.</summary>
    public const string ReminderTableOptionsName = "Reminders";

    /// <summary>Named options instance that configures the SQLite grain journal.</summary>
    public const string GrainJournalOptionsName = "Journal";

    /// <summary>Registers SQLite grain storage under <paramref name="name"/>; options are the named <see cref="SqliteStorageOptions"/> of that name.</summary>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<SqliteStorageOptions>(name).Configure(configure);
        services.AddSqliteStorageMonitor();
        return services.AddGrainStorage(name, provider =>
            new SqliteGrainStorage(provider.GetRequiredService<IOptionsMonitor<SqliteStorageOptions>>().Get(name)));
    }

    /// <summary>Registers the SQLite reminder table, replacing any other; options are the <see cref="ReminderTableOptionsName"/> instance.</summary>
    public static IServiceCollection AddSqliteReminderTable(this IServiceCollection services, Action<SqliteStorageOptions> configure) =>
        services.AddSqliteStorageMonitor().ReplaceSingleton<IReminderTable, SqliteStorageOptions>(ReminderTableOptionsName, configure, options => new SqliteReminderTable(options));

    /// <summary>
    /// Registers the SQLite grain journal, replacing any other; options are the <see cref="GrainJournalOptionsName"/>
    /// instance (the file may be the grain storage's). The container disposes it, which drains its queued writes.
    /// </summary>
    public static IServiceCollection AddSqliteGrainJournal(this IServiceCollection services, Action<SqliteStorageOptions> configure) =>
        services.AddSqliteStorageMonitor().ReplaceSingleton<IGrainJournal, SqliteStorageOptions>(GrainJournalOptionsName, configure, options => new SqliteGrainJournal(options));

    /// <summary>Every SQLite provider reports reachability to the silo's one monitor.</summary>
    internal static IServiceCollection AddSqliteStorageMonitor(this IServiceCollection services) =>
        services.AddStorageMonitor<SqliteStorageOptions>(static (o, monitor) => o.Monitor ??= monitor);
}
