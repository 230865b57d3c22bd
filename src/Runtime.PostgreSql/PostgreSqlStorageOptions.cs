using Npgsql;
using Platform.Runtime.Storage;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// Settings of the PostgreSQL grain storage, grain journal and reminder table. Durability is the server's: with its default
/// <c>synchronous_commit=on</c> a write that returned has been flushed to the server's WAL.
/// </summary>
public sealed class PostgreSqlStorageOptions
{
    /// <summary>Npgsql connection string (Host, Port, Database, Username, Password, pooling…). Required; no default.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Most queued writes committed in one transaction (one round trip, one WAL flush). Default 512.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Where reachability is reported: the silo's monitor (the service-collection extensions set it); null: one of its own that logs nothing.</summary>
    public StorageMonitor? Monitor { get; set; }

    internal NpgsqlConnectionStringBuilder Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("PostgreSqlStorageOptions.ConnectionString is empty; set it to an Npgsql connection string such as 'Host=db;Port=5432;Database=platform;Username=platform;Password=…'.");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (ArgumentException e)
        {
            // The connection string itself is not echoed: it may carry a password.
            throw new ArgumentException($"PostgreSqlStorageOptions.ConnectionString is not a valid Npgsql connection string: {e.Message}", e);
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("PostgreSqlStorageOptions.ConnectionString names no Host.");
        }

        if (MaxBatchSize < 1)
        {
            throw new ArgumentException($"PostgreSqlStorageOptions.MaxBatchSize must be at least 1; it is {MaxBatchSize}.");
        }

        return builder;
    }
}
