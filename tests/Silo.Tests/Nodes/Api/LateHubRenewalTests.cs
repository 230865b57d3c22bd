using System.Diagnostics;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>
/// A hub that renews its fleet subscription late, as on a silo starved by thousands of agents joining at once, while
/// it runs in the fleet grain's own process: its healthy agents must stay alive.
/// </summary>
public sealed class LateHubRenewalTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Agents_of_a_hub_in_the_fleets_own_process_stay_alive_when_its_renewals_come_later_than_the_orphan_grace()
    {
        // The hub renews every second; a 100 ms grace checked every 50 ms makes every renewal late, as a starved
        // process makes them. A hub on another, dead silo would have its nodes failed within one check.
        await using var silo = await SiloProcess.StartAsync(_dir.Path, null,
            "--Platform:Nodes:OrphanGrace", "00:00:00.1", "--Platform:Nodes:FleetCheckInterval", "00:00:00.05");
        var name = $"steady-{Guid.NewGuid().ToString("N")[..8]}";
        await using var agent = await RawAgent.ConnectAsync(silo.Port, RawAgent.NewHello(name));
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "alive", TimeSpan.FromSeconds(10));

        // Absence of a failure can only be observed over a window: three renewal periods, i.e. some 60 fleet checks
        // each of which finds the renewal older than the grace.
        var window = Stopwatch.StartNew();
        var reads = 0;
        while (window.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.Equal("alive", await NodesHttp.StatusAsync(silo.Http, name));
            reads++;
            await Task.Delay(50);
        }
        output.WriteLine($"{reads} reads over {window.Elapsed.TotalMilliseconds:0} ms, alive in each");

        // The same silo still fails an agent that is really gone.
        agent.Abort();
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "failed", TimeSpan.FromSeconds(10));
    }
}
