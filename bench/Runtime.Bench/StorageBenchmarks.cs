using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Bench;

/// <summary>Durable grain-state writes: each grain loops "mutate state; await WriteStateAsync()".</summary>
public static class StorageBenchmarks
{
    public static List<Row> Run(BenchOptions o)
    {
        var rows = new List<Row>();
        Console.WriteLine($"== storage: durable state writes (warm-up {o.Warmup.TotalSeconds:0.#} s, measure {o.StorageSeconds.TotalSeconds:0.#} s; state ≈ {StateBytes()} bytes of JSON)");
        rows.AddRange(RunSqlite(o));
        rows.AddRange(RunPostgres(o));
        return rows;
    }

    private static int StateBytes() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
        new WriterState { Counter = 1_000_000, Payload = WriterGrain.Payload }).Length;

    private static List<Row> RunSqlite(BenchOptions o)
    {
        var dir = Path.Combine(Path.GetTempPath(), "platform-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "bench.db");
        try
        {
            var durability = "WAL, synchronous=FULL (fsync per commit; group commit)";
            Console.WriteLine($"   SQLite: {file} ({FileSystemOf(dir)}); {durability}");
            var rows = RunProvider(o, "SQLite", s => s.AddSqliteGrainStorage(GrainStorageRegistry.DefaultName, x => x.DataSource = file));
            using (var c = new SqliteConnection($"Data Source={file};Pooling=False"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "PRAGMA journal_mode;";
                Console.WriteLine($"   SQLite file journal_mode after the run: {cmd.ExecuteScalar()} (synchronous=FULL is set per connection by the provider)");
            }
            return [.. rows.Select(r => r with { Note = durability })];
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static List<Row> RunPostgres(BenchOptions o)
    {
        PrivatePostgres pg;
        try
        {
            pg = PrivatePostgres.Acquire();
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"   PostgreSQL: SKIPPED: {e.Message}");
            return [];
        }
        var connectionString = pg.ConnectionString;
        var source = pg.Source;
        try
        {
            string settings;
            using (var c = new NpgsqlConnection(connectionString))
            {
                c.Open();
                settings = string.Join(", ", new[] { "server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes" }
                    .Select(n =>
                    {
                        using var cmd = new NpgsqlCommand($"SHOW {n}", c);
                        return $"{n}={cmd.ExecuteScalar()}";
                    }));
            }
            var host = new NpgsqlConnectionStringBuilder(connectionString);
            Console.WriteLine($"   PostgreSQL: {host.Host}:{host.Port} ({source}); {settings}");
            var durability = settings.Contains("synchronous_commit=on") && settings.Contains("fsync=on")
                ? "synchronous_commit=on, fsync=on (WAL flushed per commit; group commit)" : settings;
            var rows = RunProvider(o, "PostgreSQL", s => s.AddPostgreSqlGrainStorage(GrainStorageRegistry.DefaultName, x => x.ConnectionString = connectionString!));
            rows = [.. rows.Select(r => r with { Note = durability })];
            if (o.PgUnprepared)
            {
                // The provider prepares its statements by default; the same run with that turned off shows what it buys.
                var unprepared = connectionString + ";Max Auto Prepare=0";
                Console.WriteLine("   PostgreSQL again, connection string + \"Max Auto Prepare=0\" (statement preparation off):");
                var more = RunProvider(o, "PostgreSQL, auto-prepare off", s => s.AddPostgreSqlGrainStorage(GrainStorageRegistry.DefaultName, x => x.ConnectionString = unprepared));
                rows.AddRange(more.Select(r => r with { Note = durability }));
            }
            return rows;
        }
        finally
        {
            pg.Dispose();
        }
    }

    private static List<Row> RunProvider(BenchOptions o, string name, Action<IServiceCollection> storage)
    {
        var rows = new List<Row>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var silo = BenchSilo.StartAsync(storage).GetAwaiter().GetResult();
        try
        {
            foreach (var concurrency in o.StorageConcurrency)
            {
                var grains = Enumerable.Range(0, concurrency)
                    .Select(i => silo.Factory.GetGrain<IWriterGrain>($"{run}-{concurrency}-{i}"))
                    .ToArray();
                Task.WhenAll(grains.Select(g => g.Write(0))).GetAwaiter().GetResult(); // activate (reads state) and create the rows
                var r = LoadRunner.Run(concurrency, (i, sh, h) => LoadRunner.TimedLoop(grains[i].Write, i, sh, h!), o.Warmup, o.StorageSeconds, latency: true);
                var row = new Row("storage", $"{name}, {concurrency} grain{(concurrency == 1 ? "" : "s")} writing in a loop", concurrency, r.PerSecond, r.Operations, r.Seconds, r.Latency, OthersCpu: r.OthersCpu);
                rows.Add(row);
                Report.PrintRow(row);
            }
        }
        finally
        {
            silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return rows;
    }

    /// <summary>The file system and device that hold <paramref name="path"/>, for the report.</summary>
    internal static string FileSystemOf(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            var best = "";
            var fs = "?";
            var dev = "?";
            foreach (var line in File.ReadAllLines("/proc/mounts"))
            {
                var p = line.Split(' ');
                if (p.Length < 3) continue;
                if (full.StartsWith(p[1], StringComparison.Ordinal) && p[1].Length > best.Length) { best = p[1]; fs = p[2]; dev = p[0]; }
            }
            return $"{fs} on {dev} mounted at {best}";
        }
        catch (IOException) { return "file system unknown"; }
    }
}
