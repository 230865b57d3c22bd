using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>The membership table contract against the in-memory provider; one store per test.</summary>
public sealed class MemoryMembershipTableTests : MembershipTableContract
{
    private readonly MemoryMembershipTable _store = new();

    protected override Task<IMembershipTable> CreateTableAsync(string clusterId) =>
        Task.FromResult<IMembershipTable>(_store.ForCluster(clusterId));

    [Fact]
    public async Task Tables_of_one_cluster_on_one_store_share_their_rows()
    {
        var first = _store.ForCluster("shared");
        var second = _store.ForCluster("shared");

        await InsertAsync(first, Entry(Silo(1)));

        Assert.Equal(Silo(1), Assert.Single((await second.ReadAllAsync()).Rows).Entry.Silo);
        Assert.Empty((await new MemoryMembershipTable("shared").ReadAllAsync()).Rows);
    }
}
