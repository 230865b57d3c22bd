using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Membership;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>The membership table contract against PostgreSQL, in a database of this class's own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlMembershipTableTests(PostgresFixture postgres) : MembershipTableContract
{
    private Task<string> ConnectionStringAsync() => postgres.DatabaseForAsync(nameof(PostgreSqlMembershipTableTests));

    protected override async Task<IMembershipTable> CreateTableAsync(string clusterId) =>
        new PostgreSqlMembershipTable(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() }, clusterId);

    [Fact]
    public async Task A_fresh_instance_on_the_same_database_reads_what_the_first_wrote()
    {
        var entry = Entry(Silo(1), SiloStatus.Active, 5, new SuspectVote(Silo(2), At(4)));
        await InsertAsync(Table, entry);

        await using var reopened = new PostgreSqlMembershipTable(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() }, ClusterId);

        var snapshot = await reopened.ReadAllAsync();
        AssertSameEntry(entry, Assert.Single(snapshot.Rows).Entry);
        Assert.Equal(1, snapshot.Version.Version);
    }

    [Fact]
    public async Task Tables_started_at_once_on_a_new_database_create_the_schema_once()
    {
        var connectionString = await postgres.DatabaseForAsync($"{nameof(PostgreSqlMembershipTableTests)}-schema");
        var tables = Enumerable.Range(0, 8)
            .Select(_ => new PostgreSqlMembershipTable(new PostgreSqlStorageOptions { ConnectionString = connectionString }, ClusterId))
            .ToArray();
        try
        {
            await Task.WhenAll(tables.Select(t => t.InitializeAsync()));

            var snapshots = await Task.WhenAll(tables.Select(t => t.ReadAllAsync()));
            Assert.Single(snapshots.Select(s => s.Version).Distinct());
        }
        finally
        {
            foreach (var table in tables)
            {
                await table.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_unreachable_server_fails_naming_host_and_port_but_not_the_password()
    {
        await using var table = new PostgreSqlMembershipTable(
            new PostgreSqlStorageOptions { ConnectionString = "Host=127.0.0.1;Port=1;Username=platform;Password=hunter2;Timeout=2" }, ClusterId);

        var error = await Assert.ThrowsAsync<PostgreSqlConnectionException>(() => table.ReadAllAsync());

        Assert.Contains("127.0.0.1:1", error.Detail);
        Assert.DoesNotContain("hunter2", error.ToString());
    }

    [Fact]
    public async Task The_service_collection_extension_registers_the_table_of_the_configured_cluster()
    {
        var connectionString = await ConnectionStringAsync();
        var services = new ServiceCollection();
        services.Configure<MembershipOptions>(o => o.ClusterId = ClusterId);
        services.AddSingleton<IMembershipTable>(new MemoryMembershipTable());
        services.AddPostgreSqlMembershipTable(o => o.ConnectionString = connectionString);
        await using var provider = services.BuildServiceProvider();

        var table = Assert.IsType<PostgreSqlMembershipTable>(provider.GetRequiredService<IMembershipTable>());

        Assert.Equal(ClusterId, table.ClusterId);
        await InsertAsync(table, Entry(Silo(1)));
        Assert.Single((await Table.ReadAllAsync()).Rows);
    }
}
