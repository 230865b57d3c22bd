using Platform.Runtime.Hosting;
using Platform.Runtime.Membership;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;
using Platform.Runtime.Tests.Transport;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Cluster;

public sealed class ClusterTlsTests : IDisposable
{
    private readonly SiloTestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    [Theory]
    [InlineData("a certificate of another CA", "is not signed by the cluster's CA")]
    [InlineData("no certificate (plain TCP)", "plain TCP; this silo takes silo-to-silo connections over TLS only")]
    public async Task A_silo_the_others_refuse_never_becomes_active_and_the_cluster_keeps_serving(string newcomer, string reason)
    {
        Action<TransportOptions>[] tls =
        [
            _certs.Silo("silo0"),
            _certs.Silo("silo1"),
            newcomer.StartsWith("a certificate", StringComparison.Ordinal) ? _certs.Silo("rogue", otherCa: true) : _ => { },
        ];
        await using var cluster = new TestCluster { ConfigureTransport = (i, t) => tls[i](t) };
        await cluster.AddSiloAsync();
        await cluster.AddSiloAsync();
        await cluster.WaitForViewAsync(2);
        await AssertCallsCrossSilos(cluster, "before");

        var e = await Assert.ThrowsAsync<SiloStartupException>(() => cluster.AddSiloAsync());
        Assert.Contains("silo-to-silo connections were refused, so this silo does not join the cluster", e.Message);
        Assert.Contains(reason, e.Message);

        var members = cluster.Silos.Select(s => s.Cluster.Self).ToHashSet();
        var rows = (await cluster.Table.ReadAllAsync()).Rows.Select(r => r.Entry).ToList();
        var stranger = Assert.Single(rows, r => !members.Contains(r.Silo));
        Assert.Equal(SiloStatus.Dead, stranger.Status);
        Assert.All(cluster.Silos, s => Assert.Equal(2, s.Cluster.Membership.CurrentView.ActiveSilos.Count));
        await AssertCallsCrossSilos(cluster, "after");
    }

    private static async Task AssertCallsCrossSilos(TestCluster cluster, string round)
    {
        for (var i = 0; i < 40; i++)
            Assert.Equal(i + 1, await cluster.Silos[i % 2].Factory.GetGrain<IPingGrain>($"{round}{i}").Ping(i));
        // Each silo hosts some of them, so half the calls above crossed the TLS connections.
        Assert.All(cluster.Silos, s => Assert.Contains(Enumerable.Range(0, 40), i => s.Runtime.Catalog.TryGet(new GrainId("ping", $"{round}{i}"), out _)));
    }
}
