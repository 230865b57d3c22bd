using System.Net.Http.Json;
using System.Text.Json;
using Platform.Protocol;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Telemetry;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A hundred nodes of one batch reporting at the same moment, over the real agent protocol to a real silo: the deploy
/// grain takes the reports interleaved and group-commits them; every result must be acknowledged once stored and counted.
/// </summary>
public sealed class DeployGroupCommitTests(NodesSilo silo, ITestOutputHelper output) : IClassFixture<NodesSilo>
{
    private const int Nodes = 100;

    [Fact]
    public async Task A_hundred_results_arriving_together_are_each_acknowledged_and_counted()
    {
        var agents = await Task.WhenAll(Enumerable.Range(0, Nodes).Select(i => RawAgent.ConnectAsync(silo.Port, RawAgent.NewHello($"gc-{i:D3}"))));
        try
        {
            var before = await MetricsTests.ScrapeAsync(silo.Silo);
            using var started = await silo.Http.PostAsJsonAsync("/v1/deploys", new
            {
                manifest = "src: file:///nonexistent/app.tar\ndest: /tmp/never\n",
                target = new { nodes = agents.Select(a => a.Name).ToArray() },
            });
            Assert.Equal(System.Net.HttpStatusCode.Created, started.StatusCode);
            var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

            // Every node has its order before any reports: then all the results leave at once.
            await Task.WhenAll(agents.Select(a => a.WaitForAsync<DeployFrame>(d => d.DeployId == id, TimeSpan.FromSeconds(60))));
            await Task.WhenAll(agents.Select(a => a.SendAsync(new DeployResultFrame(id, a.Name, "succeeded", 0, 7, "ok\n"))));
            await Task.WhenAll(agents.Select(a => a.WaitForAsync<DeployResultAckFrame>(k => k.DeployId == id && k.Node == a.Name, TimeSpan.FromSeconds(60))));

            var deploy = JsonDocument.Parse(await silo.Http.GetStringAsync($"/v1/deploys/{id}")).RootElement;
            Assert.Equal("succeeded", deploy.GetProperty("status").GetString());
            Assert.Equal(Nodes, deploy.GetProperty("counts").GetProperty("succeeded").GetInt32());
            Assert.All(deploy.GetProperty("nodes").EnumerateArray(), n => Assert.Equal(("succeeded", 7L), (n.GetProperty("status").GetString(), n.GetProperty("duration_ms").GetInt64())));

            static double Of(Dictionary<string, double> s, string name) => s.GetValueOrDefault(name);
            var after = await MetricsTests.PollAsync(silo.Silo, a =>
                Of(a, "platform_deploys_node_results_total{status=succeeded}") == Of(before, "platform_deploys_node_results_total{status=succeeded}") + Nodes);
            output.WriteLine($"{Nodes} results stored with {Of(after, "platform_deploys_state_writes_total") - Of(before, "platform_deploys_state_writes_total")} writes of the deploy's state");
        }
        finally
        {
            foreach (var agent in agents) await agent.DisposeAsync();
        }
    }
}
