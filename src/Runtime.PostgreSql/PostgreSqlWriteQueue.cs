using System.Threading.Channels;
using Npgsql;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// Group commit: one loop takes everything queued (up to a batch cap), sends it as one batch in one
/// transaction (one round trip, one WAL flush), then answers every caller in the batch.
/// </summary>
internal sealed class PostgreSqlWriteQueue : IAsyncDisposable
{
    private readonly Channel<PostgreSqlWrite> _queue = Channel.CreateUnbounded<PostgreSqlWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PostgreSqlDatabase _database;
    private readonly int _maxBatchSize;
    private readonly Task _loop;
    private long _commits;

    public PostgreSqlWriteQueue(PostgreSqlDatabase database, int maxBatchSize)
    {
        _database = database;
        _maxBatchSize = maxBatchSize;
        _loop = Task.Run(RunAsync);
    }

    public long Commits => Interlocked.Read(ref _commits);

    public void Enqueue(PostgreSqlWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgreSqlWriteQueue), $"PostgreSQL storage at {_database.Endpoint} is disposed.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PostgreSqlWrite>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _maxBatchSize && reader.TryRead(out var write))
            {
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Cancel();
                }
                else
                {
                    batch.Add(write);
                }
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<PostgreSqlWrite> batch)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await _database.OpenAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var failure = _database.Failure($"committing a batch of {batch.Count} writes", e);
            foreach (var write in batch)
            {
                write.Fail(failure);
            }

            return;
        }

        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await ExecuteAsync(connection, batch).ConfigureAwait(false);
            }
            catch (PostgresException refused) when (batch.Count > 1 && !PostgreSqlConnector.IsUnavailable(refused.SqlState))
            {
                // A failing statement aborts the whole transaction (nothing of it committed); run each write
                // alone so only the offending one fails.
                foreach (var write in batch)
                {
                    try
                    {
                        await ExecuteAsync(connection, [write]).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        write.Fail(_database.Failure(write.Description, e));
                    }
                }
            }
            catch (Exception e)
            {
                var failure = _database.Failure($"committing a batch of {batch.Count} writes (outcome unknown if the connection dropped during commit)", e);
                foreach (var write in batch)
                {
                    write.Fail(failure);
                }
            }
        }
    }

    // Throws only before or during commit; everything after commit reports per write and never throws.
    private async Task ExecuteAsync(NpgsqlConnection connection, IReadOnlyList<PostgreSqlWrite> batch)
    {
        await using (var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false))
        {
            await using (var command = new NpgsqlBatch(connection, transaction))
            {
                foreach (var write in batch)
                {
                    command.BatchCommands.Add(write.CreateStatement());
                }

                await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (i > 0)
                    {
                        await reader.NextResultAsync().ConfigureAwait(false);
                    }

                    await batch[i].ReadResultAsync(reader).ConfigureAwait(false);
                }
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }

        Interlocked.Increment(ref _commits);
        _database.Succeeded();
        await AnswerAsync(connection, batch).ConfigureAwait(false);
    }

    private async Task AnswerAsync(NpgsqlConnection connection, IReadOnlyList<PostgreSqlWrite> batch)
    {
        List<(PostgreSqlWrite Write, NpgsqlBatchCommand Lookup)>? conflicts = null;
        foreach (var write in batch)
        {
            if (write.ConflictLookup() is { } lookup)
            {
                (conflicts ??= []).Add((write, lookup));
            }
            else
            {
                write.Complete();
            }
        }

        if (conflicts is null)
        {
            return;
        }

        // Conflicts are rare; looking up the stored ETags after commit keeps them out of the batch's lock time.
        var answered = 0;
        try
        {
            await using var command = new NpgsqlBatch(connection);
            foreach (var (_, lookup) in conflicts)
            {
                command.BatchCommands.Add(lookup);
            }

            await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            for (; answered < conflicts.Count; answered++)
            {
                if (answered > 0)
                {
                    await reader.NextResultAsync().ConfigureAwait(false);
                }

                await conflicts[answered].Write.FailConflictAsync(reader).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            for (; answered < conflicts.Count; answered++)
            {
                await conflicts[answered].Write.FailConflictAsync(null).ConfigureAwait(false);
            }
        }
    }
}
