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
}
