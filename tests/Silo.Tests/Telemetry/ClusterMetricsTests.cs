using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>The membership metrics of a silo whose peer dies: the view changes it applies, and silos by status.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterMetricsTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_peer_killed_shows_as_membership_changes_and_silos_by_status_on_the_survivor()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_peer_killed_shows_as_membership_changes_and_silos_by_status_on_the_survivor));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(2, TimeSpan.FromSeconds(30));
        var before = await MetricsTests.PollAsync(cluster[0], s => s.GetValueOrDefault("platform_cluster_silos{status=active}") == 2);
        // Views applied before the meter subscribed are not counted: only the change from here on is asserted.
        var changes = before.GetValueOrDefault("platform_cluster_membership_changes_total");

        await cluster[1].KillAsync();

        var after = await MetricsTests.PollAsync(cluster[0], s =>
            s.GetValueOrDefault("platform_cluster_silos{status=active}") == 1 && s.GetValueOrDefault("platform_cluster_silos{status=dead}") == 1);
        var counted = after.GetValueOrDefault("platform_cluster_membership_changes_total");
        Assert.True(counted > changes, $"the death of silo 1 counted no membership change: {changes} before, {counted} after");
        cluster.Passed = true;
    }
}
