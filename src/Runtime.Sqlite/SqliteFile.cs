using Microsoft.Data.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// One SQLite database file in this process: opens it on first use (directory, WAL, synchronous=FULL, schema), hands
/// out pooled read connections, and owns its one group-commit writer. Grain storage, journal and reminder table on the
/// same file share it (<see cref="Acquire"/>), so their writes go through one queue and one transaction per batch
/// instead of contending for the file's write lock.
/// </summary>
internal sealed class SqliteFile
{
    // SQLite result codes (primary) that mean "the file cannot be written now", not "this statement is wrong".
    private const int Busy = 5, Locked = 6, NoMemory = 7, ReadOnly = 8, IoError = 10, Full = 13, CannotOpen = 14;

    private static readonly Dictionary<string, SqliteFile> s_open = new(StringComparer.Ordinal);
    private static readonly Lock s_openGate = new();

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_type TEXT    NOT NULL,
            grain_key  TEXT    NOT NULL,
            state_name TEXT    NOT NULL,
            data       BLOB    NOT NULL,
            etag       INTEGER NOT NULL,
            PRIMARY KEY (grain_type, grain_key, state_name));
        CREATE TABLE IF NOT EXISTS reminders (
            grain_type         TEXT    NOT NULL,
            grain_key          TEXT    NOT NULL,
            name               TEXT    NOT NULL,
            start_at_utc_ticks INTEGER NOT NULL,
            period_ticks       INTEGER NOT NULL,
            etag               INTEGER NOT NULL,
            PRIMARY KEY (grain_type, grain_key, name));
        CREATE TABLE IF NOT EXISTS etag_sequence (
            id        INTEGER PRIMARY KEY CHECK (id = 1),
            last_etag INTEGER NOT NULL);
        INSERT OR IGNORE INTO etag_sequence (id, last_etag) VALUES (1, 0);
        CREATE TABLE IF NOT EXISTS journal_head (
            stream       TEXT    NOT NULL PRIMARY KEY,
            epoch        INTEGER NOT NULL,
            last_seq     INTEGER NOT NULL,
            snapshot_seq INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS journal_snapshot (
            stream TEXT NOT NULL PRIMARY KEY,
            data   BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS journal_log (
            stream TEXT    NOT NULL,
            seq    INTEGER NOT NULL,
            data   BLOB    NOT NULL,
            PRIMARY KEY (stream, seq));
        """;

    // Files written before snapshots had a table of their own kept them in journal_head, where every append's
    // update of last_seq rewrote the whole blob. They move, once, in the transaction that opens the file.
    private const string MoveSnapshotsOutOfHead = """
        INSERT OR REPLACE INTO journal_snapshot (stream, data) SELECT stream, snapshot FROM journal_head WHERE snapshot IS NOT NULL;
        ALTER TABLE journal_head DROP COLUMN snapshot;
        """;

    private readonly SqliteStorageOptions _options;
    private readonly string _readConnectionString;
    private readonly string _writeConnectionString;
    private readonly Lock _openGate = new();
    private SqliteWriteQueue? _writer;
    private bool _disposed;
    private int _users;

    private SqliteFile(SqliteStorageOptions options, string filePath)
    {
        _options = options;
        FilePath = filePath;
        Dependency = (options.Monitor ?? new StorageMonitor()).Get($"SQLite file '{FilePath}'", ProbeAsync);

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
            Pooling = true,
        };
        _readConnectionString = builder.ToString();

        // The writer holds its connection for its whole life; keeping it out of the pool keeps its prepared statements.
        builder.Pooling = false;
        _writeConnectionString = builder.ToString();
    }

    /// <summary>
    /// The file named by <paramref name="options"/>, shared with every other user of the same path in this process
    /// (the first user's batch size and busy timeout apply); <see cref="Release"/> it when done.
    /// </summary>
    public static SqliteFile Acquire(SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var path = Path.GetFullPath(options.DataSource);
        lock (s_openGate)
        {
            if (!s_open.TryGetValue(path, out var file))
            {
                file = new SqliteFile(options, path);
                s_open.Add(path, file);
            }

            file._users++;
            return file;
        }
    }

    /// <summary>One user is done; the last one finishes the queued writes and closes the file.</summary>
    public void Release()
    {
        lock (s_openGate)
        {
            if (--_users > 0) return;
            s_open.Remove(FilePath);
            // Inside the gate: a new user of the path must not open a second writer while this one drains.
            Close();
        }
    }

    /// <summary>Full path of the database file, for messages.</summary>
    public string FilePath { get; }

    /// <summary>The file as the storage monitor tracks it.</summary>
    public StorageDependency Dependency { get; }

    /// <summary>Transactions committed by the writer so far (tests use it to observe group commit).</summary>
    public long Commits => _writer?.Commits ?? 0;

    /// <summary>Opens a pooled connection for reads; WAL lets readers run beside the writer.</summary>
    public SqliteConnection OpenReader()
    {
        EnsureOpen();
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw Failure("opening a read connection", e);
        }
    }

    /// <summary>Queues <paramref name="write"/> for the next group commit; its task completes once the batch is on disk.</summary>
    public Task<TResult> WriteAsync<TResult>(SqliteWrite<TResult> write)
    {
        if (write.CancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(write.CancellationToken);
        }

        EnsureOpen().Enqueue(write);
        return write.Task;
    }

    /// <summary>
    /// Wraps a SQLite error so the message names the database file and what was being done; a file that cannot be
    /// written now (disk full, I/O error, locked past the busy timeout) becomes <see cref="StorageUnavailableException"/>
    /// and is reported to the storage monitor.
    /// </summary>
    public Exception Failure(string operation, Exception error)
    {
        var detail = $"SQLite storage '{FilePath}': {operation} failed: {error.Message}";
        if (error is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) is Busy or Locked or NoMemory or ReadOnly or IoError or Full or CannotOpen)
        {
            var failure = new StorageUnavailableException(detail, error);
            Dependency.ReportFailure(failure);
            return failure;
        }

        return new InvalidOperationException(detail, error);
    }

    /// <summary>While the file is unreachable: one small write shows whether it takes writes again.</summary>
    private Task ProbeAsync(CancellationToken cancellationToken) => WriteAsync(new SqliteProbe(cancellationToken));

    private void Close()
    {
        SqliteWriteQueue? writer;
        lock (_openGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
        }

        // Drains what is queued (those callers still get their answer), then closes the writer connection.
        writer?.Dispose();
        Dependency.Dispose();
        using var pooled = new SqliteConnection(_readConnectionString);
        SqliteConnection.ClearPool(pooled);
    }

    private SqliteWriteQueue EnsureOpen()
    {
        var writer = Volatile.Read(ref _writer);
        if (writer is not null)
        {
            return writer;
        }

        lock (_openGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return _writer;
            }

            var directory = Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(directory))
            {
                try
                {
                    Directory.CreateDirectory(directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new InvalidOperationException($"SQLite storage '{FilePath}': cannot create directory '{directory}': {e.Message}", e);
                }
            }

            var connection = new SqliteConnection(_writeConnectionString);
            try
            {
                connection.Open();
                Configure(connection);
                using (var transaction = connection.BeginTransaction())
                using (var command = connection.CreateCommand())
                {
                    command.Transaction = transaction;
                    command.CommandText = Schema;
                    command.ExecuteNonQuery();
                    command.CommandText = "SELECT count(*) FROM pragma_table_info('journal_head') WHERE name = 'snapshot'";
                    if ((long)command.ExecuteScalar()! != 0)
                    {
                        command.CommandText = MoveSnapshotsOutOfHead;
                        command.ExecuteNonQuery();
                    }

                    transaction.Commit();
                }
            }
            catch (SqliteException e)
            {
                connection.Dispose();
                throw Failure("opening the database", e);
            }
            catch
            {
                connection.Dispose();
                throw;
            }

            _writer = new SqliteWriteQueue(connection, _options.MaxBatchSize, this);
            return _writer;
        }
    }

    private void Configure(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();

        // WAL: readers never block the writer, and a commit is one sequential append plus one fsync.
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite storage '{FilePath}': the file system refused WAL journaling (journal_mode is '{mode}'); put the database on a local disk.");
        }

        // FULL: the WAL is fsynced at every commit, so a write that returned survives power loss.
        command.CommandText = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={(long)_options.BusyTimeout.TotalMilliseconds};";
        command.ExecuteNonQuery();
    }
}
