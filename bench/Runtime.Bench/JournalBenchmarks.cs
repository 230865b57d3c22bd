using Microsoft.Data.Sqlite;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Bench;

/// <summary>
/// Durable journal appends straight on the provider (no grain in between): each writer owns a stream and loops
/// "await AppendAsync(one record)", so concurrent writers share group commits.
/// </summary>
public static class JournalBenchmarks
{
    private const int RecordBytes = 128;

    public static List<Row> Run(BenchOptions o)
    {
        Console.WriteLine($"== journal: durable appends of one {RecordBytes}-byte record (warm-up {o.Warmup.TotalSeconds:0.#} s, measure {o.StorageSeconds.TotalSeconds:0.#} s)");
        var rows = new List<Row>();
        var dir = Path.Combine(Path.GetTempPath(), "platform-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "journal.db");
            Console.WriteLine($"   SQLite: {file} ({StorageBenchmarks.FileSystemOf(dir)})");
            using var sqlite = new SqliteGrainJournal(new SqliteStorageOptions { DataSource = file });
            rows.AddRange(RunJournal(o, "SQLite", sqlite, "WAL, synchronous=FULL (fsync per commit; group commit)"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }

        PrivatePostgres pg;
        try
        {
            pg = PrivatePostgres.Acquire();
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"   PostgreSQL: SKIPPED: {e.Message}");
            return rows;
        }

        using (pg)
        {
            Console.WriteLine($"   PostgreSQL: {pg.Source}");
            using var postgres = new PostgreSqlGrainJournal(new PostgreSqlStorageOptions { ConnectionString = pg.ConnectionString });
            rows.AddRange(RunJournal(o, "PostgreSQL", postgres, "server's synchronous_commit (WAL flushed per commit; group commit)"));
        }

        return rows;
    }

    private static List<Row> RunJournal(BenchOptions o, string name, IGrainJournal journal, string durability)
    {
        var rows = new List<Row>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var record = new byte[RecordBytes];
        Random.Shared.NextBytes(record);
        foreach (var concurrency in o.StorageConcurrency)
        {
            var streams = Enumerable.Range(0, concurrency).Select(i => $"bench/{run}-{concurrency}-{i}").ToArray();
            var epochs = new long[concurrency];
            for (var i = 0; i < concurrency; i++)
            {
                epochs[i] = journal.OpenAsync(streams[i]).GetAwaiter().GetResult().Epoch;
            }

            // Sequence numbers start at 1 on a fresh stream, the same numbers the timed loop hands out.
            var r = LoadRunner.Run(concurrency,
                (i, sh, h) => LoadRunner.TimedLoop(seq => journal.AppendAsync(streams[i], epochs[i], seq, [record]), i, sh, h!),
                o.Warmup, o.StorageSeconds, latency: true);
            var row = new Row("journal", $"{name}, {concurrency} stream{(concurrency == 1 ? "" : "s")} appending in a loop", concurrency,
                r.PerSecond, r.Operations, r.Seconds, r.Latency, OthersCpu: r.OthersCpu, Note: durability);
            rows.Add(row);
            Report.PrintRow(row);
        }

        return rows;
    }
}
