using Platform.Runtime.Membership;
using Xunit.Abstractions;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>With the default options, a killed silo is declared Dead within the 10 s the cluster promises.</summary>
public sealed class MembershipDetectionTimeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_default_options_a_killed_silo_is_declared_dead_within_ten_seconds(bool probesHang)
    {
        await using var cluster = new MembershipTestCluster(new MembershipOptions { ClusterId = "defaults" });
        var silos = await cluster.StartActiveSilosAsync(3);
        foreach (var silo in silos)
        {
            silo.Prober.HangOnUnreachable = probesHang;
        }

        silos[2].Service.KillForTesting();
        cluster.MakeUnreachable(silos[2].Silo);
        var detected = await MembershipTestCluster.WaitUntilAsync(
            () => silos[..2].All(s => s.Service.CurrentView.StatusOf(silos[2].Silo) == SiloStatus.Dead), TimeSpan.FromSeconds(15), "the survivors to see the killed silo Dead");

        output.WriteLine($"default options, probes {(probesHang ? "time out" : "are refused")}: killed silo declared Dead in {detected.TotalMilliseconds:0} ms");
        Assert.True(detected < TimeSpan.FromSeconds(10), $"declared Dead after {detected.TotalSeconds:0.0} s; the bound is 10 s");
    }
}
