using Microsoft.Data.Sqlite;

namespace Platform.Silo.Artifacts;

/// <summary>
/// The single silo's store: each version of an artifact is a file under <c>blobs/</c> named by a fresh id, its
/// metadata a row of <c>artifacts</c> in the silo's SQLite database. A PUT writes <c>tmp/ID</c>, fsyncs it, renames it
/// into <c>blobs/</c>, fsyncs the directory, and only then commits the row: the row is what makes it visible, so a crash
/// at any point leaves the old version or the new one, never part of one. Start-up removes temp files and orphans.
/// </summary>
public sealed partial class DiskArtifactStore(string directory, string databaseFile, ArtifactOptions options, ILogger<DiskArtifactStore> logger) : IArtifactStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS artifacts (
            name    TEXT    NOT NULL PRIMARY KEY,
            file    TEXT    NOT NULL,
            size    INTEGER NOT NULL,
            sha256  TEXT    NOT NULL,
            created INTEGER NOT NULL);
        """;

    private readonly string _blobs = Path.Combine(directory, "blobs");
    private readonly string _temp = Path.Combine(directory, "tmp");
    // The runtime's writer shares the file; a short wait for its lock beats failing the upload.
    private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = databaseFile, Pooling = true, DefaultTimeout = 30 }.ToString();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_temp);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = Schema;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var file in Directory.EnumerateFiles(_temp))
        {
            File.Delete(file);
            LogRemoved(logger, Path.GetFileName(file), "an upload that did not finish");
        }
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT file FROM artifacts";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) known.Add(reader.GetString(0));
        }
        // A crash between the rename and the row, or between a replace's commit and the old file's removal.
        foreach (var file in Directory.EnumerateFiles(_blobs))
        {
            if (known.Contains(Path.GetFileName(file))) continue;
            File.Delete(file);
            LogRemoved(logger, Path.GetFileName(file), "a file no artifact refers to");
        }
    }

    public async Task<ArtifactInfo> PutAsync(string name, Stream body, long maxSize, string? expectedSha256, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var temp = Path.Combine(_temp, id);
        var blob = Path.Combine(_blobs, id);
        long size;
        string sha256;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                (size, sha256) = await ArtifactUpload.CopyAsync(body, maxSize, options.ChunkSize, (chunk, ct) => file.WriteAsync(chunk, ct), cancellationToken).ConfigureAwait(false);
                ArtifactUpload.CheckSha256(expectedSha256, sha256);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, blob);
            DirectorySync.Flush(_blobs);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            TryDelete(blob);
            if (e is IOException io && IsDiskFull(io))
                throw new ArtifactException(StatusCodes.Status507InsufficientStorage, $"no space left for artifact '{name}' in {directory}; nothing was stored", e);
            throw;
        }

        var created = DateTimeOffset.UtcNow;
        string? replaced;
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            replaced = await FileOfAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "INSERT OR REPLACE INTO artifacts (name, file, size, sha256, created) VALUES ($name, $file, $size, $sha256, $created)";
                command.Parameters.AddWithValue("$name", name);
                command.Parameters.AddWithValue("$file", id);
                command.Parameters.AddWithValue("$size", size);
                command.Parameters.AddWithValue("$sha256", sha256);
                command.Parameters.AddWithValue("$created", created.ToUnixTimeMilliseconds());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            TryDelete(blob);
            throw;
        }
        if (replaced is not null) TryDelete(Path.Combine(_blobs, replaced));
        return new ArtifactInfo(name, size, sha256, DateTimeOffset.FromUnixTimeMilliseconds(created.ToUnixTimeMilliseconds()));
    }

    public async Task<ArtifactContent?> OpenAsync(string name, CancellationToken cancellationToken)
    {
        // A replace may remove the file between reading its row and opening it: read the row again.
        for (var attempt = 0; ; attempt++)
        {
            var (info, file) = await FindAsync(name, cancellationToken).ConfigureAwait(false);
            if (info is null) return null;
            try
            {
                var stream = new FileStream(Path.Combine(_blobs, file!), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                return new ArtifactContent(info, stream);
            }
            catch (FileNotFoundException) when (attempt < 3)
            {
            }
        }
    }

    public async Task<IReadOnlyList<ArtifactInfo>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // substr, not LIKE: a prefix may hold '%' and '_'.
        command.CommandText = "SELECT name, size, sha256, created FROM artifacts WHERE substr(name, 1, length($prefix)) = $prefix ORDER BY name";
        command.Parameters.AddWithValue("$prefix", prefix);
        var list = new List<ArtifactInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(new ArtifactInfo(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        return list;
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        string? file;
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            file = await FileOfAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
            if (file is null) return false;
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "DELETE FROM artifacts WHERE name = $name";
                command.Parameters.AddWithValue("$name", name);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        TryDelete(Path.Combine(_blobs, file));
        return true;
    }

    private async Task<(ArtifactInfo? Info, string? File)> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT file, size, sha256, created FROM artifacts WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return (null, null);
        return (new ArtifactInfo(name, reader.GetInt64(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))), reader.GetString(0));
    }

    private static async Task<string?> FileOfAsync(SqliteConnection connection, SqliteTransaction transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT file FROM artifacts WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // Per connection: a committed row must be on disk before the PUT is answered.
        command.CommandText = "PRAGMA synchronous=FULL;";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException e)
        {
            // Start-up removes it as an orphan.
            LogDeleteFailed(logger, path, e.Message);
        }
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    private static bool IsDiskFull(IOException e) => (e.HResult & 0xFFFF) is 28 or 122 or 0x70 or 0x27
        || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(EventId = 3600, Level = LogLevel.Information, Message = "artifacts: removed {File}, {Why}")]
    private static partial void LogRemoved(ILogger logger, string file, string why);

    [LoggerMessage(EventId = 3601, Level = LogLevel.Warning, Message = "artifacts: could not remove {Path}: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string path, string reason);
}
