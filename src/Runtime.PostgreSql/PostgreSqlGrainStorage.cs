using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Platform.Runtime.Storage;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// Grain state in PostgreSQL (table <c>grain_state</c>, created on first use). Concurrent writes are
/// group-committed: one batch, one transaction, one round trip; each caller is answered after commit.
/// </summary>
public sealed class PostgreSqlGrainStorage : IGrainStorage, IAsyncDisposable, IDisposable
{
    private const string Address = "grain_type = $1 AND grain_key = $2 AND state_name = $3";
    private const string SelectState = $"SELECT data, etag FROM grain_state WHERE {Address}";
    private const string SelectETag = $"SELECT etag FROM grain_state WHERE {Address}";
    private const string Insert = """
        INSERT INTO grain_state (grain_type, grain_key, state_name, data, etag) VALUES ($1, $2, $3, $4, nextval('platform_etag_seq'))
        ON CONFLICT (grain_type, grain_key, state_name) DO NOTHING RETURNING etag
        """;
    private const string Update = $"UPDATE grain_state SET data = $4, etag = nextval('platform_etag_seq') WHERE {Address} AND etag = $5 RETURNING etag";
    private const string Delete = $"DELETE FROM grain_state WHERE {Address} AND etag = $4 RETURNING etag";

    private readonly PostgreSqlDatabase _database;

    /// <summary>Creates the provider; nothing connects until first use.</summary>
    public PostgreSqlGrainStorage(PostgreSqlStorageOptions options)
    {
        _database = new PostgreSqlDatabase(options);
    }

    internal long Commits => _database.Commits;

    /// <inheritdoc />
    public async Task<StoredState?> ReadAsync(string grainType, string grainKey, string stateName, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        try
        {
            await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(SelectState, connection);
            AddAddress(command.Parameters, grainType, grainKey, stateName);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var found = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            _database.Succeeded();
            if (!found)
            {
                return null;
            }

            return new StoredState(reader.GetFieldValue<byte[]>(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw _database.Failure($"reading grain {grainType}/{grainKey} state '{stateName}'", e);
        }
    }

    /// <inheritdoc />
    public async Task<string> WriteAsync(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        if (expectedETag is null)
        {
            return await _database.WriteAsync(new StateWrite(grainType, grainKey, stateName, data, null, cancellationToken)).ConfigureAwait(false);
        }

        if (!TryParseETag(expectedETag, out var expected))
        {
            throw await ConflictAsync(grainType, grainKey, stateName, expectedETag, cancellationToken).ConfigureAwait(false);
        }

        return await _database.WriteAsync(new StateWrite(grainType, grainKey, stateName, data, expected, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task ClearAsync(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        long? expected = null;
        if (expectedETag is not null)
        {
            if (!TryParseETag(expectedETag, out var parsed))
            {
                throw await ConflictAsync(grainType, grainKey, stateName, expectedETag, cancellationToken).ConfigureAwait(false);
            }

            expected = parsed;
        }

        await _database.WriteAsync(new StateClear(grainType, grainKey, stateName, expected, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Finishes queued writes and closes the connection pool.</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Blocking form of <see cref="DisposeAsync"/>, for containers disposed synchronously.</summary>
    public void Dispose() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();

    // Every ETag this provider hands out is an integer; anything else can only be a mismatch.
    private static bool TryParseETag(string eTag, out long value) =>
        long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private async Task<InconsistentStateException> ConflictAsync(string grainType, string grainKey, string stateName, string expectedETag, CancellationToken cancellationToken)
    {
        var stored = await ReadAsync(grainType, grainKey, stateName, cancellationToken).ConfigureAwait(false);
        return InconsistentStateException.ETagMismatch(grainType, grainKey, stateName, expectedETag, stored?.ETag);
    }


    private static void AddAddress(NpgsqlParameterCollection parameters, string grainType, string grainKey, string stateName)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainType });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainKey });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
    }

    private static string FormatETag(long eTag) => eTag.ToString(CultureInfo.InvariantCulture);

    /// <summary>A write or clear whose statement returns the row's ETag when it took effect and nothing on a mismatch.</summary>
    private abstract class ConditionalWrite<TResult>(string grainType, string grainKey, string stateName, long? expected, CancellationToken cancellationToken)
        : PostgreSqlWrite<TResult>(cancellationToken)
    {
        private bool _conflicted;

        protected string GrainType => grainType;
        protected string GrainKey => grainKey;
        protected string StateName => stateName;
        protected long? Expected => expected;

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader)
        {
            var returned = await reader.ReadAsync().ConfigureAwait(false) ? reader.GetInt64(0) : (long?)null;
            _conflicted = !TookEffect(returned);
        }

        public override NpgsqlBatchCommand? ConflictLookup()
        {
            if (!_conflicted)
            {
                return null;
            }

            var lookup = new NpgsqlBatchCommand(SelectETag);
            AddAddress(lookup.Parameters, grainType, grainKey, stateName);
            return lookup;
        }

        public override async ValueTask FailConflictAsync(NpgsqlDataReader? reader)
        {
            var stored = reader is null ? "unknown (lookup failed)"
                : await reader.ReadAsync().ConfigureAwait(false) ? FormatETag(reader.GetInt64(0)) : null;
            Fail(InconsistentStateException.ETagMismatch(grainType, grainKey, stateName, expected is { } e ? FormatETag(e) : null, stored));
        }

        /// <summary>Sets the result from the row the statement returned (null: none) and says whether the write took effect.</summary>
        protected abstract bool TookEffect(long? returned);
    }

    private sealed class StateWrite(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, long? expected, CancellationToken cancellationToken)
        : ConditionalWrite<string>(grainType, grainKey, stateName, expected, cancellationToken)
    {
        public override string Description => $"writing grain {GrainType}/{GrainKey} state '{StateName}'";

        public override NpgsqlBatchCommand CreateStatement()
        {
            var statement = new NpgsqlBatchCommand(Expected is null ? Insert : Update);
            AddAddress(statement.Parameters, GrainType, GrainKey, StateName);
            statement.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Bytea });
            if (Expected is { } expectedETag)
            {
                statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedETag });
            }

            return statement;
        }

        protected override bool TookEffect(long? returned)
        {
            Result = returned is { } eTag ? FormatETag(eTag) : null;
            return returned is not null;
        }
    }

    private sealed class StateClear(string grainType, string grainKey, string stateName, long? expected, CancellationToken cancellationToken)
        : ConditionalWrite<bool>(grainType, grainKey, stateName, expected, cancellationToken)
    {
        public override string Description => $"clearing grain {GrainType}/{GrainKey} state '{StateName}'";

        public override NpgsqlBatchCommand CreateStatement()
        {
            // Clearing with no ETag asserts nothing is stored: a plain check, no change.
            var statement = new NpgsqlBatchCommand(Expected is null ? SelectETag : Delete);
            AddAddress(statement.Parameters, GrainType, GrainKey, StateName);
            if (Expected is { } expectedETag)
            {
                statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expectedETag });
            }

            return statement;
        }

        protected override bool TookEffect(long? returned)
        {
            Result = true;
            return Expected is null ? returned is null : returned is not null;
        }
    }
}
