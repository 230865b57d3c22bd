using Microsoft.Data.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Sqlite;

/// <summary>
/// Grain journals in one SQLite file (tables <c>journal_head</c>, <c>journal_snapshot</c> and <c>journal_log</c>;
/// WAL, synchronous=FULL). The head row stays small on purpose: every append updates it.
/// Appends, snapshots and opens from every stream are group-committed: they share one transaction and one fsync,
/// each is checked on its own inside it (a refused append fails alone), and each caller is answered after commit.
/// The file may be the one the grain storage uses.
/// </summary>
/// <param name="options">The file and batch settings; the file is opened (and created) on first use.</param>
public sealed class SqliteGrainJournal(SqliteStorageOptions options) : GrainJournalProvider, IDisposable
{
    private const string Open = """
        INSERT INTO journal_head (stream, epoch, last_seq, snapshot_seq) VALUES ($stream, 1, 0, 0)
        ON CONFLICT (stream) DO UPDATE SET epoch = epoch + 1
        RETURNING epoch
        """;
    private const string SelectHead = "SELECT epoch, last_seq, snapshot_seq FROM journal_head WHERE stream = $stream";
    private const string SelectHeadAndSnapshot = """
        SELECT h.epoch, h.last_seq, h.snapshot_seq, s.data
        FROM journal_head h LEFT JOIN journal_snapshot s ON s.stream = h.stream
        WHERE h.stream = $stream
        """;
    private const string SelectRecords = "SELECT seq, data FROM journal_log WHERE stream = $stream AND seq > $after ORDER BY seq";
    private const string Advance = "UPDATE journal_head SET last_seq = $last WHERE stream = $stream AND epoch = $epoch AND last_seq = $first - 1";
    private const string InsertRecord = "INSERT INTO journal_log (stream, seq, data) VALUES ($stream, $seq, $data)";
    private const string SaveSnapshot = """
        UPDATE journal_head SET snapshot_seq = $seq WHERE stream = $stream;
        INSERT INTO journal_snapshot (stream, data) VALUES ($stream, $snapshot)
        ON CONFLICT (stream) DO UPDATE SET data = excluded.data
        """;
    private const string DropRecords = "DELETE FROM journal_log WHERE stream = $stream AND seq <= $seq";

    private readonly SqliteDatabase _database = new(options);

    /// <summary>Full path of the database file.</summary>
    public string FilePath => _database.FilePath;

    internal long Commits => _database.Commits;

    /// <inheritdoc />
    protected override async Task<JournalOpenResult> OpenCheckedAsync(string stream, CancellationToken cancellationToken)
    {
        var epoch = await _database.WriteAsync(new StreamOpen(stream, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            // After the new epoch committed no older writer can change the stream; a read transaction still keeps
            // head and records consistent should a newer writer (another open) snapshot meanwhile.
            using var connection = _database.OpenReader();
            using var transaction = connection.BeginTransaction(deferred: true);
            var (head, snapshot) = ReadHead(connection, transaction, stream);
            var records = ReadRecords(connection, transaction, stream, head.SnapshotSeq);
            return GrainJournalChecks.Opened(stream, head with { Epoch = epoch }, snapshot, records);
        }
        catch (SqliteException e)
        {
            throw _database.Failure($"reading journal '{stream}'", e);
        }
    }

    /// <summary>Queues the append for the next group commit, where it is checked and applied under a savepoint.</summary>
    protected override Task AppendCheckedAsync(JournalAppend append, CancellationToken cancellationToken)
    {
        // Blobs bind from whole arrays; any copy is made here, on the caller's thread, not on the one writer thread.
        var data = new byte[append.Records.Count][];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = SqliteBlob.AsArray(append.Records[i]);
        }

        return _database.WriteAsync(new RecordsAppend(append, data, cancellationToken));
    }

    /// <summary>Queues the snapshot for the next group commit, where the head is read and checked first.</summary>
    protected override Task SaveSnapshotCheckedAsync(JournalSnapshot snapshot, CancellationToken cancellationToken) =>
        _database.WriteAsync(new SnapshotSave(snapshot, SqliteBlob.AsArray(snapshot.Data), cancellationToken));

    /// <summary>Finishes queued writes and closes the file.</summary>
    public void Dispose() => _database.Dispose();

    private static (JournalHead Head, byte[]? Snapshot) ReadHead(SqliteConnection connection, SqliteTransaction transaction, string stream)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = SelectHeadAndSnapshot;
        command.Parameters.AddWithValue("$stream", stream);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"journal '{stream}' is damaged: its head row vanished right after it was opened.");
        }

        var snapshot = reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3);
        return (new JournalHead(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)), snapshot);
    }

    private static List<JournalRecord> ReadRecords(SqliteConnection connection, SqliteTransaction transaction, string stream, long after)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = SelectRecords;
        command.Parameters.AddWithValue("$stream", stream);
        command.Parameters.AddWithValue("$after", after);
        using var reader = command.ExecuteReader();
        var records = new List<JournalRecord>();
        while (reader.Read())
        {
            records.Add(new JournalRecord(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
        }

        return records;
    }

    // The writer holds the file's write lock for the whole batch, so what this reads stays true until commit.
    private static JournalHead? CurrentHead(SqliteWriteContext context, string stream)
    {
        var command = context.Command(SelectHead);
        command.Parameters.AddWithValue("$stream", stream);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new JournalHead(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : null;
    }

    private sealed class StreamOpen(string stream, CancellationToken cancellationToken) : SqliteWrite<long>(cancellationToken)
    {
        public override string Description => $"opening journal '{stream}'";

        protected override long Apply(SqliteWriteContext context)
        {
            var command = context.Command(Open);
            command.Parameters.AddWithValue("$stream", stream);
            return (long)command.ExecuteScalar()!;
        }
    }

    private sealed class RecordsAppend(JournalAppend append, byte[][] data, CancellationToken cancellationToken) : SqliteWrite<bool>(cancellationToken)
    {
        public override string Description => append.Description;

        protected override bool Apply(SqliteWriteContext context) => context.Atomically(() =>
        {
            var advance = context.Command(Advance);
            advance.Parameters.AddWithValue("$stream", append.Stream);
            advance.Parameters.AddWithValue("$epoch", append.Epoch);
            advance.Parameters.AddWithValue("$first", append.FirstSeq);
            advance.Parameters.AddWithValue("$last", append.LastSeq);
            if (advance.ExecuteNonQuery() != 1)
            {
                throw append.Refused(CurrentHead(context, append.Stream));
            }

            for (var i = 0; i < data.Length; i++)
            {
                var insert = context.Command(InsertRecord);
                insert.Parameters.AddWithValue("$stream", append.Stream);
                insert.Parameters.AddWithValue("$seq", append.FirstSeq + i);
                insert.Parameters.Add("$data", SqliteType.Blob).Value = data[i];
                insert.ExecuteNonQuery();
            }

            return true;
        });
    }

    private sealed class SnapshotSave(JournalSnapshot snapshot, byte[] data, CancellationToken cancellationToken) : SqliteWrite<bool>(cancellationToken)
    {
        public override string Description => snapshot.Description;

        protected override bool Apply(SqliteWriteContext context)
        {
            var head = CurrentHead(context, snapshot.Stream);
            if (!snapshot.Fits(head))
            {
                throw snapshot.Refused(head);
            }

            // Older than (or as old as) the saved snapshot: nothing to do.
            if (snapshot.Seq <= head!.Value.SnapshotSeq)
            {
                return false;
            }

            return context.Atomically(() =>
            {
                var save = context.Command(SaveSnapshot);
                save.Parameters.AddWithValue("$stream", snapshot.Stream);
                save.Parameters.AddWithValue("$seq", snapshot.Seq);
                save.Parameters.Add("$snapshot", SqliteType.Blob).Value = data;
                save.ExecuteNonQuery();

                var drop = context.Command(DropRecords);
                drop.Parameters.AddWithValue("$stream", snapshot.Stream);
                drop.Parameters.AddWithValue("$seq", snapshot.Seq);
                drop.ExecuteNonQuery();
                return true;
            });
        }
    }
}
