using Platform.Runtime.Membership;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>The membership service over the PostgreSQL table: the same agreement and detection as in memory.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlMembershipServiceTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_silos_on_postgresql_agree_and_declare_a_killed_one_dead()
    {
        var options = MembershipTestCluster.FastOptions();
        options.ClusterId = $"pg-{Guid.NewGuid():N}"[..12];
        await using var table = new PostgreSqlMembershipTable(
            new PostgreSqlStorageOptions { ConnectionString = await postgres.DatabaseForAsync(nameof(PostgreSqlMembershipServiceTests)) }, options.ClusterId);
        await using var cluster = new MembershipTestCluster(options, table);
        var silos = await cluster.StartActiveSilosAsync(3);

        silos[2].Service.KillForTesting();
        cluster.MakeUnreachable(silos[2].Silo);
        var detected = await MembershipTestCluster.WaitUntilAsync(
            () => silos[..2].All(s => s.Service.CurrentView.StatusOf(silos[2].Silo) == SiloStatus.Dead), TimeSpan.FromSeconds(10), "the survivors to see the killed silo Dead");
        output.WriteLine($"PostgreSQL table: killed silo declared Dead in {detected.TotalMilliseconds:0} ms (probe interval 100 ms)");

        await MembershipTestCluster.WaitUntilAsync(() => MembershipTestCluster.ViewsAgree(silos[..2]), TimeSpan.FromSeconds(5), "the survivors' views to agree");
        var snapshot = await table.ReadAllAsync();
        Assert.Equal(SiloStatus.Dead, snapshot.Rows.Single(r => r.Entry.Silo == silos[2].Silo).Entry.Status);

        await silos[1].Service.StopAsync(CancellationToken.None);
        Assert.Equal(SiloStatus.Dead, (await table.ReadAllAsync()).Rows.Single(r => r.Entry.Silo == silos[1].Silo).Entry.Status);
    }
}
