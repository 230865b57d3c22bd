using System.Globalization;
using Microsoft.Data.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// Grain state in one SQLite file (WAL, synchronous=FULL). Concurrent writes are group-committed: they share
/// one transaction and one fsync, and each caller is answered only after its batch is on disk.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage, IDisposable
{
    private const string SelectState = "SELECT data, etag FROM grain_state WHERE grain_type = $type AND grain_key = $key AND state_name = $state";
    private const string SelectETag = "SELECT etag FROM grain_state WHERE grain_type = $type AND grain_key = $key AND state_name = $state";
    private const string UpsertState = """
        INSERT INTO grain_state (grain_type, grain_key, state_name, data, etag) VALUES ($type, $key, $state, $data, $etag)
        ON CONFLICT (grain_type, grain_key, state_name) DO UPDATE SET data = excluded.data, etag = excluded.etag
        """;
    private const string DeleteState = "DELETE FROM grain_state WHERE grain_type = $type AND grain_key = $key AND state_name = $state";

    private readonly SqliteDatabase _database;

    /// <summary>Creates the provider; the file is opened (and created) on first use.</summary>
    public SqliteGrainStorage(SqliteStorageOptions options)
    {
        _database = new SqliteDatabase(options);
    }

    /// <summary>Full path of the database file.</summary>
    public string FilePath => _database.FilePath;

    internal long Commits => _database.Commits;

    /// <inheritdoc />
    public Task<StoredState?> ReadAsync(string grainType, string grainKey, string stateName, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            using var connection = _database.OpenReader();
            using var command = connection.CreateCommand();
            command.CommandText = SelectState;
            AddAddress(command, grainType, grainKey, stateName);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return Task.FromResult<StoredState?>(null);
            }

            var data = reader.GetFieldValue<byte[]>(0);
            var eTag = reader.GetInt64(1).ToString(CultureInfo.InvariantCulture);
            return Task.FromResult<StoredState?>(new StoredState(data, eTag));
        }
        catch (SqliteException e)
        {
            throw _database.Failure($"reading grain {grainType}/{grainKey} state '{stateName}'", e);
        }
    }

    /// <inheritdoc />
    public Task<string> WriteAsync(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        return _database.WriteAsync(new StateWrite(grainType, grainKey, stateName, data, expectedETag, cancellationToken));
    }

    /// <inheritdoc />
    public Task ClearAsync(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        return _database.WriteAsync(new StateClear(grainType, grainKey, stateName, expectedETag, cancellationToken));
    }

    /// <summary>Finishes queued writes and closes the file.</summary>
    public void Dispose() => _database.Dispose();


    private static void AddAddress(SqliteCommand command, string grainType, string grainKey, string stateName)
    {
        command.Parameters.AddWithValue("$type", grainType);
        command.Parameters.AddWithValue("$key", grainKey);
        command.Parameters.AddWithValue("$state", stateName);
    }

    // The writer holds the file's write lock for the whole batch, so this check and the write that follows are atomic.
    private static void CheckETag(SqliteWriteContext context, string grainType, string grainKey, string stateName, string? expectedETag)
    {
        var command = context.Command(SelectETag);
        AddAddress(command, grainType, grainKey, stateName);
        var stored = command.ExecuteScalar() is long eTag ? eTag.ToString(CultureInfo.InvariantCulture) : null;
        if (!string.Equals(stored, expectedETag, StringComparison.Ordinal))
        {
            throw InconsistentStateException.ETagMismatch(grainType, grainKey, stateName, expectedETag, stored);
        }
    }

    private sealed class StateWrite(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken)
        : SqliteWrite<string>(cancellationToken)
    {
        public override string Description => $"writing grain {grainType}/{grainKey} state '{stateName}'";

        protected override string Apply(SqliteWriteContext context)
        {
            CheckETag(context, grainType, grainKey, stateName, expectedETag);
            var eTag = context.NextETag();
            var command = context.Command(UpsertState);
            AddAddress(command, grainType, grainKey, stateName);
            command.Parameters.Add("$data", SqliteType.Blob).Value = SqliteBlob.AsArray(data);
            command.Parameters.AddWithValue("$etag", eTag);
            command.ExecuteNonQuery();
            return eTag.ToString(CultureInfo.InvariantCulture);
        }
    }

    private sealed class StateClear(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken)
        : SqliteWrite<bool>(cancellationToken)
    {
        public override string Description => $"clearing grain {grainType}/{grainKey} state '{stateName}'";

        protected override bool Apply(SqliteWriteContext context)
        {
            CheckETag(context, grainType, grainKey, stateName, expectedETag);
            if (expectedETag is null)
            {
                return false;
            }

            var command = context.Command(DeleteState);
            AddAddress(command, grainType, grainKey, stateName);
            command.ExecuteNonQuery();
            return true;
        }
    }
}
