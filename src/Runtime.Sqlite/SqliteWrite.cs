using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Platform.Runtime.Sqlite;

/// <summary>One queued write: applied inside a group-commit transaction, answered once its batch is on disk.</summary>
internal abstract class SqliteWrite(CancellationToken cancellationToken)
{
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>What this write does, naming its grain, for error messages ("writing grain counter/abc state 'state'").</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Applies the write inside the batch transaction. Throwing fails this write alone, so it must change the
    /// database with at most one statement (SQLite rolls back a failed statement, not the transaction), or run its
    /// statements through <see cref="SqliteWriteContext.Atomically{T}"/>.
    /// </summary>
    public abstract void Execute(SqliteWriteContext context);

    /// <summary>The batch is durable: answer the caller.</summary>
    public abstract void Complete();

    public abstract void Fail(Exception error);

    public abstract void Cancel();
}

/// <summary>A queued write whose caller awaits a <typeparamref name="TResult"/>.</summary>
internal abstract class SqliteWrite<TResult>(CancellationToken cancellationToken) : SqliteWrite(cancellationToken)
{
    // Continuations must not run on the writer thread: they would delay every later batch.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TResult? _result;

    public Task<TResult> Task => _completion.Task;

    public sealed override void Execute(SqliteWriteContext context) => _result = Apply(context);

    public sealed override void Complete() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception error) => _completion.TrySetException(error);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);

    /// <summary>Does the work; the value is handed to the caller only after commit.</summary>
    protected abstract TResult Apply(SqliteWriteContext context);
}

/// <summary>What a write sees of its batch: the transaction, prepared commands, and fresh ETags.</summary>
internal sealed class SqliteWriteContext(SqliteConnection connection, SqliteTransaction transaction, Dictionary<string, SqliteCommand> commands)
{
    private long _lastETag;
    private bool _eTagsTaken;

    /// <summary>A prepared command for <paramref name="sql"/>, reused across batches, with its parameters cleared.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            commands.Add(sql, command);
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    /// <summary>
    /// Runs a write of several statements under a savepoint: when one of them throws, the ones before it are
    /// undone too, so the write still fails alone and the rest of the batch commits.
    /// </summary>
    public T Atomically<T>(Func<T> apply)
    {
        Command("SAVEPOINT write").ExecuteNonQuery();
        try
        {
            var result = apply();
            Command("RELEASE write").ExecuteNonQuery();
            return result;
        }
        catch
        {
            // An I/O error or a full disk may already have rolled back the whole transaction; the queue handles that.
            if (raw.sqlite3_get_autocommit(connection.Handle) == 0)
            {
                Command("ROLLBACK TO write").ExecuteNonQuery();
                Command("RELEASE write").ExecuteNonQuery();
            }

            throw;
        }
    }

    /// <summary>
    /// A new ETag, unique across the whole file: never reused after a delete, so a writer holding an ETag from
    /// before a clear cannot overwrite the row created after it.
    /// </summary>
    public long NextETag()
    {
        if (!_eTagsTaken)
        {
            _lastETag = (long)Command("SELECT last_etag FROM etag_sequence WHERE id = 1").ExecuteScalar()!;
            _eTagsTaken = true;
        }

        return ++_lastETag;
    }

    /// <summary>Persists the ETags handed out in this batch (one statement per batch, not per write).</summary>
    public void SaveETagSequence()
    {
        if (_eTagsTaken)
        {
            var command = Command("UPDATE etag_sequence SET last_etag = $last WHERE id = 1");
            command.Parameters.AddWithValue("$last", _lastETag);
            command.ExecuteNonQuery();
        }
    }
}
