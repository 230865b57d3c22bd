using Platform.Runtime.Storage;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// Settings of the SQLite grain storage, grain journal and reminder table; providers on the same file share one writer,
/// set up by the first of them to open it. Durability: the file runs in WAL mode with
/// <c>synchronous=FULL</c>, so a write that returned has been fsynced and survives a crash or power loss.
/// </summary>
public sealed class SqliteStorageOptions
{
    /// <summary>Path of the database file; relative paths resolve against the working directory; a missing directory is created. Default <c>data/platform.db</c>.</summary>
    public string DataSource { get; set; } = Path.Combine("data", "platform.db");

    /// <summary>Most queued writes committed in one transaction (one fsync). Default 512.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>How long a statement waits for a lock held by another process before failing. Default 30 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where reachability is reported: the silo's monitor (the service-collection extensions set it); null: one of its own that logs nothing.</summary>
    public StorageMonitor? Monitor { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataSource))
        {
            throw new ArgumentException("SqliteStorageOptions.DataSource must be the path of a database file; it is empty.");
        }

        // Readers and the writer use separate connections; each would get its own private in-memory database.
        if (DataSource.Equals(":memory:", StringComparison.OrdinalIgnoreCase) || DataSource.Contains("mode=memory", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"SqliteStorageOptions.DataSource '{DataSource}' is an in-memory database; use a file path (or the memory providers for tests).");
        }

        if (MaxBatchSize < 1)
        {
            throw new ArgumentException($"SqliteStorageOptions.MaxBatchSize must be at least 1; it is {MaxBatchSize}.");
        }

        if (BusyTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"SqliteStorageOptions.BusyTimeout must be positive; it is {BusyTimeout}.");
        }
    }
}
