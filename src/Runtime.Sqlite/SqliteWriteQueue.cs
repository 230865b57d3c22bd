using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// Group commit: one thread takes everything queued (up to a batch cap), applies it in one transaction,
/// commits with one fsync, then answers every caller in the batch.
/// </summary>
internal sealed class SqliteWriteQueue : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly int _maxBatchSize;
    private readonly SqliteFile _database;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly Thread _thread;
    private List<SqliteWrite> _pending = [];
    private List<SqliteWrite> _spare = [];
    private bool _closing;
    private long _commits;

    public SqliteWriteQueue(SqliteConnection connection, int maxBatchSize, SqliteFile database)
    {
        _connection = connection;
        _maxBatchSize = maxBatchSize;
        _database = database;

        // A dedicated thread: the commit blocks on fsync, which must not tie up a thread-pool thread.
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-group-commit" };
        _thread.Start();
    }

    public long Commits => Interlocked.Read(ref _commits);

    public void Enqueue(SqliteWrite write)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            _pending.Add(write);
            if (_pending.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _connection.Dispose();
    }

    private void Run()
    {
        while (TakeBatch() is { } batch)
        {
            Commit(batch);
            batch.Clear();
            lock (_gate)
            {
                _spare = batch;
            }
        }
    }

    private List<SqliteWrite>? TakeBatch()
    {
        lock (_gate)
        {
            while (_pending.Count == 0)
            {
                if (_closing)
                {
                    return null;
                }

                Monitor.Wait(_gate);
            }

            if (_pending.Count <= _maxBatchSize)
            {
                var batch = _pending;
                _pending = _spare;
                _spare = [];
                return batch;
            }

            var head = _pending.GetRange(0, _maxBatchSize);
            _pending.RemoveRange(0, _maxBatchSize);
            return head;
        }
    }

    private void Commit(List<SqliteWrite> batch)
    {
        var applied = new List<SqliteWrite>(batch.Count);
        try
        {
            // IMMEDIATE: take the write lock up front, so ETag checks and writes see one consistent file.
            using var transaction = _connection.BeginTransaction(deferred: false);
            var context = new SqliteWriteContext(_connection, transaction, _commands);
            foreach (var write in batch)
            {
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Cancel();
                    continue;
                }

                try
                {
                    write.Execute(context);
                    applied.Add(write);
                }
                catch (SqliteException e)
                {
                    write.Fail(_database.Failure(write.Description, e));

                    // Most errors undo only the failed statement, but some (disk full, I/O error) roll back the
                    // whole transaction; then nothing of this batch can commit.
                    if (raw.sqlite3_get_autocommit(_connection.Handle) != 0)
                    {
                        throw;
                    }
                }
                catch (Exception e)
                {
                    write.Fail(e);
                }
            }

            context.SaveETagSequence();
            transaction.Commit();
            Interlocked.Increment(ref _commits);
            _database.Dependency.ReportSuccess();
        }
        catch (Exception e)
        {
            var failure = _database.Failure($"committing a batch of {batch.Count} writes (rolled back)", e);
            foreach (var write in batch)
            {
                write.Fail(failure);
            }

            return;
        }

        foreach (var write in applied)
        {
            write.Complete();
        }
    }
}
