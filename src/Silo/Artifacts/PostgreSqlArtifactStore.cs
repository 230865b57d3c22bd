using System.Data;
using Npgsql;
using NpgsqlTypes;
using Platform.Runtime;

namespace Platform.Silo.Artifacts;

/// <summary>
/// The cluster's store: an artifact's bytes are a PostgreSQL large object, its metadata a row of <c>artifacts</c>
/// naming it, so every silo serves every artifact. A PUT writes the large object and the row in one transaction: a
/// crash or a refusal rolls both back. Reads run in a repeatable-read snapshot, so a replace or delete committed while
/// a download runs does not change what it reads (docs/artifacts.md has the trade-off).
/// </summary>
public sealed class PostgreSqlArtifactStore(string connectionString, ArtifactOptions options) : IArtifactStore, IAsyncDisposable
{
    private const string Schema = """
        SELECT pg_advisory_xact_lock(7310615524112050);
        CREATE TABLE IF NOT EXISTS artifacts (
            name    text        NOT NULL PRIMARY KEY,
            content oid         NOT NULL,
            size    bigint      NOT NULL,
            sha256  text        NOT NULL,
            created timestamptz NOT NULL);
        """;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(Schema, connection, transaction);
        await Run(() => command.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ArtifactInfo> PutAsync(string name, Stream body, long maxSize, string? expectedSha256, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var oid = await Run(() => Scalar<uint>(connection, transaction, "SELECT lo_create(0)", cancellationToken)).ConfigureAwait(false);

        await using var put = new NpgsqlCommand("SELECT lo_put($1, $2, $3)", connection, transaction);
        var oidParameter = new NpgsqlParameter<uint> { NpgsqlDbType = NpgsqlDbType.Oid, TypedValue = oid };
        var offsetParameter = new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint };
        var dataParameter = new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea };
        put.Parameters.Add(oidParameter);
        put.Parameters.Add(offsetParameter);
        put.Parameters.Add(dataParameter);
        long offset = 0;
        var (size, sha256) = await ArtifactUpload.CopyAsync(body, maxSize, options.ChunkSize, async (chunk, ct) =>
        {
            offsetParameter.TypedValue = offset;
            dataParameter.TypedValue = chunk;
            await Run(() => put.ExecuteNonQueryAsync(ct)).ConfigureAwait(false);
            offset += chunk.Length;
        }, cancellationToken).ConfigureAwait(false);
        ArtifactUpload.CheckSha256(expectedSha256, sha256);

        // One writer per name at a time, so the version a replace removes is the one it read.
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "artifact:" + name });
            await Run(() => command.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
        }
        var replaced = await ContentOfAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        DateTime created;
        await using (var command = new NpgsqlCommand("""
            INSERT INTO artifacts (name, content, size, sha256, created) VALUES ($1, $2, $3, $4, date_trunc('milliseconds', now()))
            ON CONFLICT (name) DO UPDATE SET content = excluded.content, size = excluded.size, sha256 = excluded.sha256, created = excluded.created
            RETURNING created
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            command.Parameters.Add(new NpgsqlParameter<uint> { NpgsqlDbType = NpgsqlDbType.Oid, TypedValue = oid });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = size });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha256 });
            created = (DateTime)(await Run(() => command.ExecuteScalarAsync(cancellationToken)).ConfigureAwait(false))!;
        }
        if (replaced is { } old) await UnlinkAsync(connection, transaction, old, cancellationToken).ConfigureAwait(false);
        await Run(() => transaction.CommitAsync(CancellationToken.None)).ConfigureAwait(false);
        return new ArtifactInfo(name, size, sha256, new DateTimeOffset(created, TimeSpan.Zero));
    }

    public async Task<ArtifactContent?> OpenAsync(string name, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            ArtifactInfo? info = null;
            uint oid = 0;
            await using (var command = new NpgsqlCommand("SELECT content, size, sha256, created FROM artifacts WHERE name = $1", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                await using var reader = await Run(() => command.ExecuteReaderAsync(cancellationToken)).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    oid = reader.GetFieldValue<uint>(0);
                    info = new ArtifactInfo(name, reader.GetInt64(1), reader.GetString(2), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero));
                }
            }
            if (info is null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }
            return new ArtifactContent(info, new LargeObjectStream(connection, transaction, oid, info.Size, options.ChunkSize));
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<IReadOnlyList<ArtifactInfo>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT name, size, sha256, created FROM artifacts WHERE left(name, length($1)) = $1 ORDER BY name COLLATE \"C\"", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix });
        var list = new List<ArtifactInfo>();
        await using var reader = await Run(() => command.ExecuteReaderAsync(cancellationToken)).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new ArtifactInfo(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero)));
        return list;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("DELETE FROM artifacts WHERE name = $1 RETURNING content", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        if (await Run(() => command.ExecuteScalarAsync(cancellationToken)).ConfigureAwait(false) is not uint oid) return false;
        await UnlinkAsync(connection, transaction, oid, cancellationToken).ConfigureAwait(false);
        await Run(() => transaction.CommitAsync(CancellationToken.None)).ConfigureAwait(false);
        return true;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static async Task<uint?> ContentOfAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT content FROM artifacts WHERE name = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return await Run(() => command.ExecuteScalarAsync(cancellationToken)).ConfigureAwait(false) is uint oid ? oid : null;
    }

    private static async Task UnlinkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, uint oid, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT lo_unlink($1)", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<uint> { NpgsqlDbType = NpgsqlDbType.Oid, TypedValue = oid });
        await Run(() => command.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
        => await Run(() => _dataSource.OpenConnectionAsync(cancellationToken).AsTask()).ConfigureAwait(false);

    /// <summary>A server that cannot be reached or is out of space answers 503 (through the outage answer), not 500.</summary>
    internal static async Task<T> Run<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception e) when (Unavailable(e))
        {
            throw new StorageUnavailableException($"PostgreSQL artifact store: {e.Message}", e);
        }
    }

    internal static async Task Run(Func<Task> operation)
    {
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch (Exception e) when (Unavailable(e))
        {
            throw new StorageUnavailableException($"PostgreSQL artifact store: {e.Message}", e);
        }
    }

    private static bool Unavailable(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("53", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException or System.Net.Sockets.SocketException or TimeoutException => true,
        _ => false,
    };
}
