using Xunit.Abstractions;

namespace Platform.Silo.Tests.Etcd;

/// <summary>etcdctl's cluster commands, which scripts use to check that they reach a healthy server.</summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class EtcdctlClusterTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Member_list_names_the_one_member_as_leader()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("member list", exit: 0, stdout: "<member>: name=<masked> peerURLs=<masked> clientURLs=<endpoint> isLeader=true");
    }

    [Fact]
    public async Task Cluster_health_reports_the_member_healthy()
    {
        await using var c = await EtcdctlComparison.StartAsync(fixture, output);
        await c.Run("cluster-health", exit: 0, stdout: "member <member> is healthy: got healthy result from <endpoint>\ncluster is healthy");
        await c.Run("--no-sync cluster-health", exit: 0);
    }
}
