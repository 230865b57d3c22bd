using Platform.Runtime.PostgreSql;
using Platform.Runtime.Tests.Support;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Tests.Storage;

/// <summary>The reminder table contract against PostgreSQL, in a database of this class's own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlReminderTableTests(PostgresFixture postgres) : ReminderTableContract
{
    private Task<string> ConnectionStringAsync() => postgres.DatabaseForAsync(nameof(PostgreSqlReminderTableTests));

    protected override async Task<IReminderTable> CreateTableAsync() =>
        new PostgreSqlReminderTable(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() });

    [Fact]
    public async Task A_fresh_table_on_the_same_database_reads_what_the_first_wrote()
    {
        var eTag = await Table.UpsertAsync(GrainType, "k", "wake", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1));
        await DisposeTableAsync(Table);

        await using var reopened = new PostgreSqlReminderTable(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() });

        Assert.Equal(new ReminderEntry(GrainType, "k", "wake", DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(1), eTag), await reopened.ReadAsync(GrainType, "k", "wake"));
    }
}
