using Platform.Runtime.Storage;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Sqlite;

/// <summary>Durable reminders in a SQLite file (table <c>reminders</c>), written through the same group commit as grain state.</summary>
public sealed class SqliteReminderTable : IReminderTable, IDisposable
{
    private const string Columns = "grain_type, grain_key, name, start_at_utc_ticks, period_ticks, etag";
    private const string Address = "grain_type = $type AND grain_key = $key AND name = $name";
    private const string Upsert = """
        INSERT INTO reminders (grain_type, grain_key, name, start_at_utc_ticks, period_ticks, etag) VALUES ($type, $key, $name, $start, $period, $etag)
        ON CONFLICT (grain_type, grain_key, name) DO UPDATE SET start_at_utc_ticks = excluded.start_at_utc_ticks, period_ticks = excluded.period_ticks, etag = excluded.etag
        """;
    private const string Delete = $"DELETE FROM reminders WHERE {Address} AND etag = $etag";

    private readonly SqliteDatabase _database;

    /// <summary>Creates the table provider; the file is opened (and created) on first use.</summary>
    public SqliteReminderTable(SqliteStorageOptions options)
    {
        _database = new SqliteDatabase(options);
    }

    /// <summary>Full path of the database file.</summary>
    public string FilePath => _database.FilePath;

    /// <inheritdoc />
    public Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var connection = _database.OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM reminders ORDER BY grain_type, grain_key, name";
            using var reader = command.ExecuteReader();
            var entries = new List<ReminderEntry>();
            while (reader.Read())
            {
                entries.Add(ReadEntry(reader));
            }

            return Task.FromResult<IReadOnlyList<ReminderEntry>>(entries);
        }
        catch (SqliteException e)
        {
            throw _database.Failure("reading all reminders", e);
        }
    }

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadAsync(string grainType, string grainKey, string name, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var connection = _database.OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM reminders WHERE {Address}";
            AddAddress(command, grainType, grainKey, name);
            using var reader = command.ExecuteReader();
            return Task.FromResult(reader.Read() ? ReadEntry(reader) : null);
        }
        catch (SqliteException e)
        {
            throw _database.Failure($"reading reminder '{name}' of grain {grainType}/{grainKey}", e);
        }
    }

    /// <inheritdoc />
    public Task<string> UpsertAsync(string grainType, string grainKey, string name, DateTimeOffset startAt, TimeSpan period, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        return _database.WriteAsync(new ReminderUpsert(grainType, grainKey, name, startAt, period, cancellationToken));
    }

    /// <inheritdoc />
    public Task<bool> RemoveAsync(string grainType, string grainKey, string name, string eTag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        ArgumentNullException.ThrowIfNull(eTag);

        // Every ETag this table hands out is an integer; anything else cannot match a row.
        if (!StorageAddress.TryParseVersion(eTag, out var version))
        {
            return Task.FromResult(false);
        }

        return _database.WriteAsync(new ReminderRemove(grainType, grainKey, name, version, cancellationToken));
    }

    /// <summary>Finishes queued writes and closes the file.</summary>
    public void Dispose() => _database.Dispose();

    private static ReminderEntry ReadEntry(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
        TimeSpan.FromTicks(reader.GetInt64(4)),
        reader.GetInt64(5).ToString(CultureInfo.InvariantCulture));


    private static void AddAddress(SqliteCommand command, string grainType, string grainKey, string name)
    {
        command.Parameters.AddWithValue("$type", grainType);
        command.Parameters.AddWithValue("$key", grainKey);
        command.Parameters.AddWithValue("$name", name);
    }

    private sealed class ReminderUpsert(string grainType, string grainKey, string name, DateTimeOffset startAt, TimeSpan period, CancellationToken cancellationToken)
        : SqliteWrite<string>(cancellationToken)
    {
        public override string Description => $"upserting reminder '{name}' of grain {grainType}/{grainKey}";

        protected override string Apply(SqliteWriteContext context)
        {
            var eTag = context.NextETag();
            var command = context.Command(Upsert);
            AddAddress(command, grainType, grainKey, name);
            command.Parameters.AddWithValue("$start", startAt.UtcTicks);
            command.Parameters.AddWithValue("$period", period.Ticks);
            command.Parameters.AddWithValue("$etag", eTag);
            command.ExecuteNonQuery();
            return eTag.ToString(CultureInfo.InvariantCulture);
        }
    }

    private sealed class ReminderRemove(string grainType, string grainKey, string name, long eTag, CancellationToken cancellationToken)
        : SqliteWrite<bool>(cancellationToken)
    {
        public override string Description => $"removing reminder '{name}' of grain {grainType}/{grainKey}";

        protected override bool Apply(SqliteWriteContext context)
        {
            var command = context.Command(Delete);
            AddAddress(command, grainType, grainKey, name);
            command.Parameters.AddWithValue("$etag", eTag);
            return command.ExecuteNonQuery() == 1;
        }
    }
}
