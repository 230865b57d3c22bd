using System.Net.Sockets;
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
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private readonly PostgreSqlWriteQueue _writer;
    private volatile bool _schemaReady;

    public PostgreSqlDatabase(PostgreSqlStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = options.Validate();
        Endpoint = $"{builder.Host}:{builder.Port} database '{builder.Database ?? builder.Username ?? "(default)"}'";
        _dataSource = NpgsqlDataSource.Create(builder);
        _writer = new PostgreSqlWriteQueue(this, options.MaxBatchSize);
    }

    /// <summary>Host, port and database, for messages; never the password.</summary>
    public string Endpoint { get; }

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
    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_schemaReady)
        {
            await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }

        return await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wraps a failure so the message names the server and what was being done.</summary>
    public Exception Failure(string operation, Exception error) => error switch
    {
        PostgreSqlConnectionException or InconsistentStateException or OperationCanceledException => error,
        PostgresException => new InvalidOperationException($"PostgreSQL storage at {Endpoint}: {operation} failed: {error.Message}", error),
        NpgsqlException or SocketException or IOException or TimeoutException =>
            new PostgreSqlConnectionException($"PostgreSQL storage at {Endpoint}: {operation} failed, connection lost or refused: {error.Message}", error),
        _ => new InvalidOperationException($"PostgreSQL storage at {Endpoint}: {operation} failed: {error.Message}", error),
    };

    public async ValueTask DisposeAsync()
    {
        // Drains what is queued (those callers still get their answer) before the pool goes away.
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _schemaGate.Dispose();
    }

    private async ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException)
        {
            throw new PostgreSqlConnectionException($"PostgreSQL storage cannot connect to {Endpoint}: {e.Message}", e);
        }
    }

    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using var command = new NpgsqlCommand(Schema, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                throw Failure("creating the schema (grain_state, reminders, platform_etag_seq)", e);
            }

            _schemaReady = true;
        }
        finally
        {
            _schemaGate.Release();
        }
    }
}
