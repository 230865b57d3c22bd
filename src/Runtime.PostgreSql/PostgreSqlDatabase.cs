using Npgsql;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// One PostgreSQL database: a pooled data source, the schema (created on first use, idempotently), and the
/// single group-commit writer.
/// </summary>
internal sealed class PostgreSqlDatabase : IAsyncDisposable
{
    // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog when several silos start at once;
    // an advisory lock held for the schema transaction serialises them.
    private const string Schema = """
        SELECT pg_advisory_xact_lock(7310615524112049);
        CREATE SEQUENCE IF NOT EXISTS platform_etag_seq;
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_type text   NOT NULL,
            grain_key  text   NOT NULL,
            state_name text   NOT NULL,
            data       bytea  NOT NULL,
            etag       bigint NOT NULL,
            PRIMARY KEY (grain_type, grain_key, state_name));
        CREATE TABLE IF NOT EXISTS reminders (
            grain_type         text   NOT NULL,
            grain_key          text   NOT NULL,
            name               text   NOT NULL,
            start_at_utc_ticks bigint NOT NULL,
            period_ticks       bigint NOT NULL,
            etag               bigint NOT NULL,
            PRIMARY KEY (grain_type, grain_key, name));
        CREATE TABLE IF NOT EXISTS journal_head (
            stream       text   NOT NULL PRIMARY KEY,
            epoch        bigint NOT NULL,
            last_seq     bigint NOT NULL,
            snapshot_seq bigint NOT NULL,
            snapshot     bytea);
        CREATE TABLE IF NOT EXISTS journal_log (
            stream text   NOT NULL,
            seq    bigint NOT NULL,
            data   bytea  NOT NULL,
            PRIMARY KEY (stream, seq));
        """;

    private readonly PostgreSqlConnector _connector;
    private readonly PostgreSqlWriteQueue _writer;

    public PostgreSqlDatabase(PostgreSqlStorageOptions options)
    {
        _connector = new PostgreSqlConnector(options, "PostgreSQL storage", "grain_state, reminders, journal_head, journal_log, platform_etag_seq", static async (connection, transaction, ct) =>
        {
            await using var command = new NpgsqlCommand(Schema, connection, transaction);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        });
        _writer = new PostgreSqlWriteQueue(this, options.MaxBatchSize);
    }

    /// <summary>Host, port and database, for messages; never the password.</summary>
    public string Endpoint => _connector.Endpoint;

    /// <summary>Transactions committed by the writer so far (tests use it to observe group commit).</summary>
    public long Commits => _writer.Commits;

    /// <summary>Queues <paramref name="write"/> for the next group commit; its task completes once the batch is committed.</summary>
    public Task<TResult> WriteAsync<TResult>(PostgreSqlWrite<TResult> write)
    {
        if (write.CancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(write.CancellationToken);
        }

        _writer.Enqueue(write);
        return write.Task;
    }

    /// <summary>Opens a pooled connection, creating the schema first if this process has not yet.</summary>
    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => _connector.OpenAsync(cancellationToken);

    /// <summary>Wraps a failure so the message names the server and what was being done.</summary>
    public Exception Failure(string operation, Exception error) => _connector.Failure(operation, error);

    /// <summary>A round trip succeeded: the server is reachable.</summary>
    public void Succeeded() => _connector.Succeeded();

    public async ValueTask DisposeAsync()
    {
        // Drains what is queued (those callers still get their answer) before the pool goes away.
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _connector.DisposeAsync().ConfigureAwait(false);
    }
}
