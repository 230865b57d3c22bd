using Microsoft.Data.Sqlite;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// One provider's use of a SQLite database file: the file and its writer are shared with the other providers on the
/// same path (<see cref="SqliteFile"/>); disposing ends this provider's use, the last one closes the file.
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly SqliteFile _file;
    private int _disposed;

    public SqliteDatabase(SqliteStorageOptions options)
    {
        _file = SqliteFile.Acquire(options);
    }

    /// <summary>Full path of the database file, for messages.</summary>
    public string FilePath => _file.FilePath;

    /// <summary>Transactions committed by the file's writer so far, for every provider on the file (tests use it to observe group commit).</summary>
    public long Commits => _file.Commits;

    /// <summary>Opens a pooled connection for reads; WAL lets readers run beside the writer.</summary>
    public SqliteConnection OpenReader()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _file.OpenReader();
    }

    /// <summary>Queues <paramref name="write"/> for the file's next group commit; its task completes once the batch is on disk.</summary>
    public Task<TResult> WriteAsync<TResult>(SqliteWrite<TResult> write)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _file.WriteAsync(write);
    }

    /// <summary>Wraps a SQLite error so the message names the database file and what was being done.</summary>
    public Exception Failure(string operation, Exception error) => _file.Failure(operation, error);

    /// <summary>Ends this provider's use; the last user's dispose drains the queued writes and closes the file.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _file.Release();
    }
}
