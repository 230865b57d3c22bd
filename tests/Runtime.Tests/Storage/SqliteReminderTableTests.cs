using Platform.Runtime.Sqlite;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Tests.Storage;

public sealed class SqliteReminderTableTests : ReminderTableContract
{
    private readonly TempDirectory _directory = new();

    private string DataSource => Path.Combine(_directory.Path, "reminders.db");

    protected override Task<IReminderTable> CreateTableAsync() =>
        Task.FromResult<IReminderTable>(new SqliteReminderTable(new SqliteStorageOptions { DataSource = DataSource }));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_fresh_table_on_the_same_file_reads_what_the_first_wrote()
    {
        var eTag = await Table.UpsertAsync(GrainType, "k", "wake", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1));
        await DisposeTableAsync(Table);

        using var reopened = new SqliteReminderTable(new SqliteStorageOptions { DataSource = DataSource });

        Assert.Equal(new ReminderEntry(GrainType, "k", "wake", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1), eTag), Assert.Single(await reopened.ReadAllAsync()));
        Assert.True(await reopened.RemoveAsync(GrainType, "k", "wake", eTag));
    }

    [Fact]
    public async Task Reminders_and_grain_state_share_one_file_without_reusing_etags()
    {
        using var storage = new SqliteGrainStorage(new SqliteStorageOptions { DataSource = DataSource });

        var stateETag = await storage.WriteAsync("counter", "k", "state", new byte[] { 1 }, null);
        var reminderETag = await Table.UpsertAsync(GrainType, "k", "wake", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1));

        Assert.NotEqual(stateETag, reminderETag);
        Assert.NotNull(await storage.ReadAsync("counter", "k", "state"));
        Assert.NotNull(await Table.ReadAsync(GrainType, "k", "wake"));
    }
}
