using Microsoft.Data.Sqlite;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>The storage contract against SQLite, each test in its own temp directory, plus what only a file can show.</summary>
public sealed class SqliteGrainStorageTests : GrainStorageContract
{
    private readonly TempDirectory _directory = new();

    // A subdirectory that does not exist yet: the provider must create it.
    private string DataSource => Path.Combine(_directory.Path, "data", "state.db");

    protected override Task<IGrainStorage> CreateStorageAsync() =>
        Task.FromResult<IGrainStorage>(new SqliteGrainStorage(new SqliteStorageOptions { DataSource = DataSource }));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_fresh_provider_on_the_same_file_reads_what_the_first_wrote()
    {
        var eTag = await Storage.WriteAsync("counter", Key("durable"), "state", Bytes("kept"), null);
        await DisposeStorageAsync(Storage);

        using var reopened = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = DataSource });
        var stored = await reopened.ReadAsync("counter", Key("durable"), "state");

        Assert.Equal("kept", Text(stored));
        Assert.Equal(eTag, stored!.Value.ETag);
        var next = await reopened.WriteAsync("counter", Key("durable"), "state", Bytes("next"), eTag);
        Assert.NotEqual(eTag, next);
    }

    [Fact]
    public async Task The_file_uses_wal_journaling_with_its_tables_created()
    {
        await Storage.WriteAsync("counter", Key("wal"), "state", Bytes("x"), null);

        using var connection = new SqliteConnection($"Data Source={DataSource};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar() as string);
        command.CommandText = "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)";
        Assert.Equal("etag_sequence,grain_state,journal_head,journal_log,journal_snapshot,reminders", command.ExecuteScalar() as string);
    }

    [Fact]
    public async Task Concurrent_writes_share_transactions()
    {
        var storage = (SqliteGrainStorage)Storage;
        const int writers = 200;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(i => storage.WriteAsync("counter", Key($"group-{i}"), "state", Bytes("x"), null)));

        Assert.InRange(storage.Commits, 1, writers - 1);
    }

    [Fact]
    public async Task A_failing_write_in_a_batch_fails_alone()
    {
        var stale = await Storage.WriteAsync("counter", Key("stale"), "state", Bytes("one"), null);
        await Storage.WriteAsync("counter", Key("stale"), "state", Bytes("two"), stale);

        var good = Enumerable.Range(0, 50).Select(i => Storage.WriteAsync("counter", Key($"batch-{i}"), "state", Bytes($"v{i}"), null)).ToList();
        var bad = Storage.WriteAsync("counter", Key("stale"), "state", Bytes("three"), stale);
        good.AddRange(Enumerable.Range(50, 50).Select(i => Storage.WriteAsync("counter", Key($"batch-{i}"), "state", Bytes($"v{i}"), null)));

        await Assert.ThrowsAsync<InconsistentStateException>(() => bad);
        await Task.WhenAll(good);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal($"v{i}", Text(await Storage.ReadAsync("counter", Key($"batch-{i}"), "state")));
        }
    }

    [Fact]
    public async Task Two_providers_opening_one_new_file_at_once_both_work()
    {
        var shared = Path.Combine(_directory.Path, "shared", "state.db");
        using var first = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = shared });
        using var second = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = shared });

        var writes = await Task.WhenAll(
            Task.Run(() => first.WriteAsync("counter", Key("one"), "state", Bytes("1"), null)),
            Task.Run(() => second.WriteAsync("counter", Key("two"), "state", Bytes("2"), null)));

        Assert.NotEqual(writes[0], writes[1]);
        Assert.Equal("2", Text(await first.ReadAsync("counter", Key("two"), "state")));
        Assert.Equal("1", Text(await second.ReadAsync("counter", Key("one"), "state")));
    }

    [Fact]
    public async Task Writes_after_dispose_throw_object_disposed()
    {
        var storage = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = DataSource });
        await storage.WriteAsync("counter", Key("before"), "state", Bytes("x"), null);
        storage.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteAsync("counter", Key("after"), "state", Bytes("x"), null));
    }

    [Fact]
    public void In_memory_data_source_is_rejected_with_a_message_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteGrainStorage(new SqliteStorageOptions { DataSource = ":memory:" }));

        Assert.Contains("':memory:'", error.Message);
    }

    [Fact]
    public async Task An_unopenable_path_fails_with_a_message_naming_the_file()
    {
        var blocker = Path.Combine(_directory.Path, "blocker");
        await File.WriteAllTextAsync(blocker, "a file where a directory should be");
        using var storage = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = Path.Combine(blocker, "state.db") });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => storage.ReadAsync("counter", "k", "state"));

        Assert.Contains(Path.Combine(blocker, "state.db"), error.Message);
    }
}
