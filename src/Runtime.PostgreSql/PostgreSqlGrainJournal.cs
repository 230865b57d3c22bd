using System.Data;
using Npgsql;
using NpgsqlTypes;
using Platform.Runtime.Storage;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// Grain journals in PostgreSQL (tables <c>journal_head</c> and <c>journal_log</c>, created on first use).
/// Appends, snapshots and opens from every stream are group-committed (one batch, one transaction, one round
/// trip); each is checked by its own statement, so a refused append fails alone, and each caller is answered
/// after commit. Silos sharing the database are fenced by the head row: opening bumps its epoch under the row lock.
/// </summary>
/// <param name="options">Connection string and batch settings; nothing connects until first use.</param>
public sealed class PostgreSqlGrainJournal(PostgreSqlStorageOptions options) : GrainJournalProvider, IAsyncDisposable, IDisposable
{
    private const string Open = """
        INSERT INTO journal_head (stream, epoch, last_seq, snapshot_seq) VALUES ($1, 1, 0, 0)
        ON CONFLICT (stream) DO UPDATE SET epoch = journal_head.epoch + 1
        RETURNING epoch
        """;
    private const string SelectHead = "SELECT epoch, last_seq, snapshot_seq, snapshot FROM journal_head WHERE stream = $1";
    private const string SelectRecords = """
        SELECT seq, data FROM journal_log
        WHERE stream = $1 AND seq > (SELECT snapshot_seq FROM journal_head WHERE stream = $1)
        ORDER BY seq
        """;

    // The head update is the check and the stream's lock; the records go in only when it matched ($3 first, $4 last).
    private const string Append = """
        WITH head AS (
            UPDATE journal_head SET last_seq = $4 WHERE stream = $1 AND epoch = $2 AND last_seq = $3 - 1 RETURNING stream),
        appended AS (
            INSERT INTO journal_log (stream, seq, data)
            SELECT head.stream, $3 + r.n - 1, r.data FROM head, unnest($5::bytea[]) WITH ORDINALITY AS r(data, n))
        SELECT count(*) FROM head
        """;

    // Touches the head whenever it exists, changing it only when the snapshot is accepted and newer, so the row it
    // returns is the one the decision was made on (a refusal raises nothing that would abort the batch).
    private const string Snapshot = """
        WITH head AS (
            UPDATE journal_head SET
                snapshot     = CASE WHEN epoch = $2 AND $3 <= last_seq AND $3 > snapshot_seq THEN $4 ELSE snapshot END,
                snapshot_seq = CASE WHEN epoch = $2 AND $3 <= last_seq AND $3 > snapshot_seq THEN $3 ELSE snapshot_seq END
            WHERE stream = $1
            RETURNING epoch, last_seq, snapshot_seq),
        dropped AS (
            DELETE FROM journal_log WHERE stream = $1 AND seq <= $3 AND EXISTS (SELECT 1 FROM head WHERE epoch = $2 AND $3 <= last_seq))
        SELECT epoch, last_seq, snapshot_seq FROM head
        """;
    private const string SelectState = "SELECT epoch, last_seq, snapshot_seq FROM journal_head WHERE stream = $1";

    private readonly PostgreSqlDatabase _database = new(options);

    internal long Commits => _database.Commits;

    /// <inheritdoc />
    protected override async Task<JournalOpenResult> OpenCheckedAsync(string stream, CancellationToken cancellationToken)
    {
        var epoch = await _database.WriteAsync(new StreamOpen(stream, cancellationToken)).ConfigureAwait(false);
        try
        {
            // After the new epoch committed no older writer can change the stream; one repeatable-read snapshot still
            // keeps head and records consistent should a newer writer (another open) snapshot meanwhile.
            await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands = { Statement(SelectHead, stream), Statement(SelectRecords, stream) },
            };
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"journal '{stream}' is damaged: its head row vanished right after it was opened.");
            }

            var head = ReadHead(reader) with { Epoch = epoch };
            var snapshot = await reader.IsDBNullAsync(3, cancellationToken).ConfigureAwait(false) ? null : reader.GetFieldValue<byte[]>(3);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var records = new List<JournalRecord>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                records.Add(new JournalRecord(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
            }

            return GrainJournalChecks.Opened(stream, head, snapshot, records);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw _database.Failure($"reading journal '{stream}'", e);
        }
    }

    /// <inheritdoc />
    protected override Task AppendCheckedAsync(JournalAppend append, CancellationToken cancellationToken) =>
        _database.WriteAsync(new RecordsAppend(append, cancellationToken));

    /// <inheritdoc />
    protected override Task SaveSnapshotCheckedAsync(JournalSnapshot snapshot, CancellationToken cancellationToken) =>
        _database.WriteAsync(new SnapshotSave(snapshot, cancellationToken));

    /// <summary>Finishes queued writes and closes the connection pool.</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Blocking form of <see cref="DisposeAsync"/>, for containers disposed synchronously.</summary>
    public void Dispose() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static NpgsqlBatchCommand Statement(string sql, string stream) =>
        new(sql) { Parameters = { new NpgsqlParameter<string> { TypedValue = stream } } };

    private static JournalHead ReadHead(NpgsqlDataReader reader) => new(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));

    private sealed class StreamOpen(string stream, CancellationToken cancellationToken) : PostgreSqlWrite<long>(cancellationToken)
    {
        public override string Description => $"opening journal '{stream}'";

        public override NpgsqlBatchCommand CreateStatement() => Statement(Open, stream);

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader)
        {
            await reader.ReadAsync().ConfigureAwait(false);
            Result = reader.GetInt64(0);
        }
    }

    private sealed class RecordsAppend(JournalAppend append, CancellationToken cancellationToken) : PostgreSqlWrite<bool>(cancellationToken)
    {
        private bool _refused;

        public override string Description => append.Description;

        public override NpgsqlBatchCommand CreateStatement()
        {
            var statement = Statement(Append, append.Stream);
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.Epoch });
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.FirstSeq });
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = append.LastSeq });
            statement.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>[]>
            {
                TypedValue = append.Records as ReadOnlyMemory<byte>[] ?? [.. append.Records],
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
            });
            return statement;
        }

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader)
        {
            await reader.ReadAsync().ConfigureAwait(false);
            _refused = reader.GetInt64(0) == 0;
            Result = true;
        }

        // Refusals are rare; reading the head after commit to explain one keeps the lookup out of the batch.
        public override NpgsqlBatchCommand? ConflictLookup() => _refused ? Statement(SelectState, append.Stream) : null;

        public override async ValueTask FailConflictAsync(NpgsqlDataReader? reader)
        {
            Fail(reader is null
                ? GrainJournalChecks.AppendRefused(append.Stream, append.Epoch, append.FirstSeq, "the stream's head could not be read (lookup failed)")
                : append.Refused(await reader.ReadAsync().ConfigureAwait(false) ? ReadHead(reader) : null));
        }
    }

    private sealed class SnapshotSave(JournalSnapshot snapshot, CancellationToken cancellationToken) : PostgreSqlWrite<bool>(cancellationToken)
    {
        private InconsistentStateException? _refusal;

        public override string Description => snapshot.Description;

        public override NpgsqlBatchCommand CreateStatement()
        {
            var statement = Statement(Snapshot, snapshot.Stream);
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = snapshot.Epoch });
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = snapshot.Seq });
            statement.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = snapshot.Data, NpgsqlDbType = NpgsqlDbType.Bytea });
            return statement;
        }

        public override async ValueTask ReadResultAsync(NpgsqlDataReader reader)
        {
            JournalHead? head = await reader.ReadAsync().ConfigureAwait(false) ? ReadHead(reader) : null;
            _refusal = snapshot.Fits(head) ? null : snapshot.Refused(head);
            Result = true;
        }

        // The statement already said whether the snapshot was refused; the caller hears it after commit like any answer.
        public override void Complete()
        {
            if (_refusal is not null)
            {
                Fail(_refusal);
            }
            else
            {
                base.Complete();
            }
        }
    }
}
