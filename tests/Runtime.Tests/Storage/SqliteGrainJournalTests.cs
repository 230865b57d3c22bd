using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The journal contract against SQLite, plus what only a file can show. Each test gets its own temp directory,
/// with the file in a subdirectory that does not exist yet (the provider must create it).
/// </summary>
public sealed class SqliteGrainJournalTests : GrainJournalContract
{
    private readonly TempDirectory _directory;

    public SqliteGrainJournalTests()
    {
        _directory = new TempDirectory();
        DataSource = Path.Combine(_directory.Path, "data", "journal.db");
    }

    private string DataSource { get; }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    private SqliteStorageOptions Options => new() { DataSource = DataSource };

    protected override Task<IGrainJournal> CreateJournalAsync() => Task.FromResult<IGrainJournal>(new SqliteGrainJournal(Options));

    private object? Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DataSource};Pooling=False;Default Timeout=30");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Fact]
    public async Task A_fresh_provider_on_the_same_file_reads_what_the_first_wrote()
    {
        var stream = Stream("durable");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two", "three"));
        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 2, Bytes("s2"));
        await DisposeJournalAsync(Journal);

        using var reopened = new SqliteGrainJournal(Options);
        var state = await reopened.OpenAsync(stream);

        Assert.Equal(opened.Epoch + 1, state.Epoch);
        Assert.Equal("s2", System.Text.Encoding.UTF8.GetString(state.Snapshot!));
        Assert.Equal(["three"], Texts(state));
        await Assert.ThrowsAsync<InconsistentStateException>(() => reopened.AppendAsync(stream, opened.Epoch, 4, Records("stale")));
    }

    [Fact]
    public async Task Concurrent_appends_share_transactions()
    {
        var journal = (SqliteGrainJournal)Journal;
        const int streams = 200;
        var opened = await Task.WhenAll(Enumerable.Range(0, streams).Select(i => journal.OpenAsync(Stream($"group-{i}"))));
        var before = journal.Commits;

        await Task.WhenAll(Enumerable.Range(0, streams).Select(i => journal.AppendAsync(Stream($"group-{i}"), opened[i].Epoch, 1, Records("x"))));

        Assert.InRange(journal.Commits - before, 1, streams - 1);
    }

    [Fact]
    public async Task The_journal_and_grain_storage_share_one_file()
    {
        using var storage = new SqliteGrainStorage(Options);
        var stream = Stream("shared");
        var opened = await Journal.OpenAsync(stream);

        await Task.WhenAll(
            Journal.AppendAsync(stream, opened.Epoch, 1, Records("one")),
            storage.WriteAsync("counter", stream, "state", Bytes("kept"), null));

        Assert.Equal(["one"], Texts(await Journal.OpenAsync(stream)));
        Assert.NotNull(await storage.ReadAsync("counter", stream, "state"));
    }

    [Fact]
    public async Task An_append_whose_record_insert_fails_changes_nothing_and_names_the_stream()
    {
        var stream = Stream("stray");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one"));
        Execute($"INSERT INTO journal_log (stream, seq, data) VALUES ('{stream}', 3, x'00')");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Journal.AppendAsync(stream, opened.Epoch, 2, Records("two", "three")));

        Assert.Contains($"appending records 2..3 to journal '{stream}'", error.Message);
        Assert.Equal(1L, Execute($"SELECT last_seq FROM journal_head WHERE stream = '{stream}'"));
        Assert.Equal(1L, Execute($"SELECT count(*) FROM journal_log WHERE stream = '{stream}' AND seq < 3"));
        Execute($"DELETE FROM journal_log WHERE stream = '{stream}' AND seq = 3");
        await Journal.AppendAsync(stream, opened.Epoch, 2, Records("two", "three"));
        Assert.Equal(["one", "two", "three"], Texts(await Journal.OpenAsync(stream)));
    }

    [Fact]
    public async Task Journal_writes_after_dispose_throw_object_disposed()
    {
        var journal = new SqliteGrainJournal(Options);
        var opened = await journal.OpenAsync(Stream("disposed"));
        journal.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => journal.AppendAsync(Stream("disposed"), opened.Epoch, 1, Records("late")));
    }

    [Fact]
    public async Task AddSqliteGrainJournal_registers_one_singleton_that_the_container_disposes()
    {
        var services = new ServiceCollection();
        services.AddMemoryGrainJournal();

        services.AddSqliteGrainJournal(o => o.DataSource = DataSource);

        Assert.Single(services, d => d.ServiceType == typeof(IGrainJournal));
        IGrainJournal journal;
        await using (var provider = services.BuildServiceProvider())
        {
            journal = provider.GetRequiredService<IGrainJournal>();
            Assert.Same(journal, provider.GetRequiredService<IGrainJournal>());
            var sqlite = Assert.IsType<SqliteGrainJournal>(journal);
            Assert.Equal(DataSource, sqlite.FilePath);
            await journal.OpenAsync(Stream("registered"));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => journal.OpenAsync(Stream("registered")));
    }
}
