using Platform.Runtime.Storage;
using System.Globalization;
using Npgsql;
using Platform.Runtime.Timers;

namespace Platform.Runtime.PostgreSql;

/// <summary>Durable reminders in PostgreSQL (table <c>reminders</c>, created on first use), written through group commit.</summary>
public sealed class PostgreSqlReminderTable : IReminderTable, IAsyncDisposable, IDisposable
{
    private const string Columns = "grain_type, grain_key, name, start_at_utc_ticks, period_ticks, etag";
    private const string Address = "grain_type = $1 AND grain_key = $2 AND name = $3";
    private const string Upsert = """
        INSERT INTO reminders (grain_type, grain_key, name, start_at_utc_ticks, period_ticks, etag) VALUES ($1, $2, $3, $4, $5, nextval('platform_etag_seq'))
        ON CONFLICT (grain_type, grain_key, name) DO UPDATE SET start_at_utc_ticks = EXCLUDED.start_at_utc_ticks, period_ticks = EXCLUDED.period_ticks, etag = EXCLUDED.etag
        RETURNING etag
        """;
    private const string Delete = $"DELETE FROM reminders WHERE {Address} AND etag = $4 RETURNING etag";

    private readonly PostgreSqlDatabase _database;

    /// <summary>Creates the table provider; nothing connects until first use.</summary>
    public PostgreSqlReminderTable(PostgreSqlStorageOptions options)
    {
        _database = new PostgreSqlDatabase(options);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReminderEntry>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM reminders ORDER BY grain_type, grain_key, name", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var entries = new List<ReminderEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(ReadEntry(reader));
            }

            return entries;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw _database.Failure("reading all reminders", e);
        }
    }

    /// <inheritdoc />
    public async Task<ReminderEntry?> ReadAsync(string grainType, string grainKey, string name, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, name);
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM reminders WHERE {Address}", connection);
            AddAddress(command.Parameters, grainType, grainKey, name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadEntry(reader) : null;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
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

    /// <summary>Finishes queued writes and closes the connection pool.</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Blocking form of <see cref="DisposeAsync"/>, for containers disposed synchronously.</summary>
    public void Dispose() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static ReminderEntry ReadEntry(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
        TimeSpan.FromTicks(reader.GetInt64(4)),
        reader.GetInt64(5).ToString(CultureInfo.InvariantCulture));


    private static void AddAddress(NpgsqlParameterCollection parameters, string grainType, string grainKey, string name)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainType });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainKey });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
    }

    private sealed class ReminderUpsert(string grainType, string grainKey, string name, DateTimeOffset startAt, TimeSpan period, CancellationToken cancellationToken)
        : PostgreSqlWrite<string>(cancellationToken)
    {
        public override string Description => $"upserting reminder '{name}' of grain {grainType}/{grainKey}";

        public override NpgsqlBatchCommand CreateStatement()
        {
            var statement = new NpgsqlBatchCommand(Upsert);
            AddAddress(statement.Parameters, grainType, grainKey, name);
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = startAt.UtcTicks });
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = period.Ticks });
            return statement;
        }

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader)
        {
            // An upsert always returns its row.
            await reader.ReadAsync().ConfigureAwait(false);
            Result = reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        }
    }

    private sealed class ReminderRemove(string grainType, string grainKey, string name, long eTag, CancellationToken cancellationToken)
        : PostgreSqlWrite<bool>(cancellationToken)
    {
        public override string Description => $"removing reminder '{name}' of grain {grainType}/{grainKey}";

        public override NpgsqlBatchCommand CreateStatement()
        {
            var statement = new NpgsqlBatchCommand(Delete);
            AddAddress(statement.Parameters, grainType, grainKey, name);
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = eTag });
            return statement;
        }

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader) =>
            Result = await reader.ReadAsync().ConfigureAwait(false);
    }
}
