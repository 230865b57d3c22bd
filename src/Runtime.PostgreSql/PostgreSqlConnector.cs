using System.Net.Sockets;
using Npgsql;
using Platform.Runtime.Storage;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// A pooled connection to one PostgreSQL database for one component (storage, membership table): creates the
/// component's schema once per process before the first connection is handed out, and turns failures into
/// messages that name the server (never the password) and what was being done. Connection failures become
/// <see cref="PostgreSqlConnectionException"/> and are reported to the <see cref="StorageMonitor"/>.
/// </summary>
internal sealed class PostgreSqlConnector : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private readonly string _component;
    private readonly string _schemaDescription;
    private readonly Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task> _createSchema;
    private volatile bool _schemaReady;

    /// <param name="options">Connection string and limits.</param>
    /// <param name="component">How messages name the user of the database, e.g. "PostgreSQL storage".</param>
    /// <param name="schemaDescription">What the schema step creates, for its error message.</param>
    /// <param name="createSchema">Idempotent schema statements, run in one transaction.</param>
    public PostgreSqlConnector(PostgreSqlStorageOptions options, string component, string schemaDescription, Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task> createSchema)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = options.Validate();
        // The same few statements run millions of times: let Npgsql prepare them, unless the connection string
        // says how (Max Auto Prepare=0 turns it off).
        if (!builder.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }
        Endpoint = $"{builder.Host}:{builder.Port} database '{builder.Database ?? builder.Username ?? "(default)"}'";
        _dataSource = NpgsqlDataSource.Create(builder);
        _component = component;
        _schemaDescription = schemaDescription;
        _createSchema = createSchema;
        Dependency = (options.Monitor ?? new StorageMonitor()).Get($"PostgreSQL at {Endpoint}", ProbeAsync);
    }

    /// <summary>The server as the storage monitor tracks it; every component on the same server shares it.</summary>
    public StorageDependency Dependency { get; }

    /// <summary>Host, port and database, for messages; never the password.</summary>
    public string Endpoint { get; }

    /// <summary>Opens a pooled connection, creating the schema first if this process has not yet.</summary>
    public async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_schemaReady) await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Wraps a failure so the message names the server and what was being done; a server that cannot be reached or is
    /// shutting down becomes <see cref="PostgreSqlConnectionException"/> and is reported to the storage monitor.
    /// </summary>
    public Exception Failure(string operation, Exception error)
    {
        switch (error)
        {
            case StorageUnavailableException or InconsistentStateException or OperationCanceledException:
                return error;
            case PostgresException postgres when !IsUnavailable(postgres.SqlState):
                return new InvalidOperationException($"{_component} at {Endpoint}: {operation} failed: {error.Message}", error);
            case NpgsqlException or SocketException or IOException or TimeoutException:
                return Unavailable($"{_component} at {Endpoint}: {operation} failed, connection lost or refused: {error.Message}", error);
            default:
                return new InvalidOperationException($"{_component} at {Endpoint}: {operation} failed: {error.Message}", error);
        }
    }

    /// <summary>A round trip succeeded: the server is reachable.</summary>
    public void Succeeded() => Dependency.ReportSuccess();

    /// <summary>
    /// SQLSTATE classes that mean "try later", not "this statement is wrong": connection exceptions (08), insufficient
    /// resources (53: disk full, out of memory, too many connections), operator intervention (57: shutdown, starting up).
    /// </summary>
    internal static bool IsUnavailable(string sqlState) => sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal) || sqlState.StartsWith("57P", StringComparison.Ordinal);

    private PostgreSqlConnectionException Unavailable(string detail, Exception error)
    {
        var failure = new PostgreSqlConnectionException(detail, error);
        // Idle pooled connections died with the server: without this, each would fail one call after it is back.
        _dataSource.Clear();
        Dependency.ReportFailure(failure);
        return failure;
    }

    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
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
            throw Unavailable($"{_component} cannot connect to {Endpoint}: {e.Message}", e);
        }
    }

    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady) return;
            await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await _createSchema(connection, transaction, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                throw Failure($"creating the schema ({_schemaDescription})", e);
            }
            _schemaReady = true;
        }
        finally
        {
            _schemaGate.Release();
        }
    }
}
