using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Sqlite;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The journal contracts against SQLite, plus what only a file can show. Each test gets its own temp directory,
/// with the file in a subdirectory that does not exist yet (the provider must create it).
/// </summary>
public sealed class SqliteGrainJournalTests : DurableGrainJournalContract
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

    protected override long CommitsOf(IGrainJournal journal) => ((SqliteGrainJournal)journal).Commits;

    protected override void Register(IServiceCollection services) => services.AddSqliteGrainJournal(o => o.DataSource = DataSource);

    protected override Task<object?> ExecuteAsync(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DataSource};Pooling=False;Default Timeout=30");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Task.FromResult(command.ExecuteScalar());
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
        Assert.Equal(DataSource, ((SqliteGrainJournal)Journal).FilePath);
    }

    [Fact]
    public async Task A_file_that_kept_snapshots_in_the_head_row_opens_with_them()
    {
        // The layout before snapshots had their own table: the blob sat in journal_head.
        await DisposeJournalAsync(Journal);
        Assert.False(File.Exists(DataSource));
        Directory.CreateDirectory(Path.GetDirectoryName(DataSource)!);
        await ExecuteAsync("""
            CREATE TABLE journal_head (stream TEXT NOT NULL PRIMARY KEY, epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL,
                                       snapshot_seq INTEGER NOT NULL, snapshot BLOB)
            """);
        await ExecuteAsync("CREATE TABLE journal_log (stream TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (stream, seq))");
        await ExecuteAsync("INSERT INTO journal_head VALUES ('old/with', 3, 3, 2, CAST('s2' AS BLOB)), ('old/without', 1, 1, 0, NULL)");
        await ExecuteAsync("INSERT INTO journal_log VALUES ('old/with', 3, CAST('three' AS BLOB)), ('old/without', 1, CAST('one' AS BLOB))");

        var journal = new SqliteGrainJournal(Options);
        try
        {
            var with = await journal.OpenAsync("old/with");
            Assert.Equal("s2", Encoding.UTF8.GetString(with.Snapshot!));
            Assert.Equal(["three"], Texts(with));
            var without = await journal.OpenAsync("old/without");
            Assert.Null(without.Snapshot);
            Assert.Equal(["one"], Texts(without));

            await journal.AppendAsync("old/with", with.Epoch, 4, Records("four"));
            await journal.SaveSnapshotAsync("old/with", with.Epoch, 4, Bytes("s4"));
            var again = await journal.OpenAsync("old/with");
            Assert.Equal("s4", Encoding.UTF8.GetString(again.Snapshot!));
            Assert.Empty(again.Records);
        }
        finally
        {
            journal.Dispose();
        }

        Assert.Equal(0L, await ExecuteAsync("SELECT count(*) FROM pragma_table_info('journal_head') WHERE name = 'snapshot'"));
    }
}
