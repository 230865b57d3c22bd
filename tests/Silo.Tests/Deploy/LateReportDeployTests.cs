using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Nodes.Serf;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A node counted <c>lost</c> (its agent frozen with SIGSTOP while the deploy ran) stays <c>lost</c> when its agent comes
/// back, finishes the run and reports success: the silo acknowledges the result and changes nothing.
/// </summary>
public sealed class LateReportDeployTests(ITestOutputHelper output) : DeploySiloTest
{
    /// <summary>Whether the agent's deploys.json says the silo acknowledged its result of deploy <paramref name="id"/>.</summary>
    private bool Acknowledged(string node, string id)
    {
        var path = Path.Combine(Fleet.NodeDir(node), "data", "deploys.json");
        if (!File.Exists(path)) return false;
        try
        {
            var records = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            return records.TryGetProperty(id, out var record) && record.GetProperty("acknowledged").GetBoolean();
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            // Read while the agent rewrites it: the next look decides.
            return false;
        }
    }

    [Fact]
    public async Task A_lost_node_stays_lost_when_its_agent_comes_back_and_reports_success()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [DeployFollowTests.Gate]);
        var node = Fleet.Names.Single();
        var agent = Fleet.Agent(node);
        var (status, body) = await DeployFleet.PostAsync(TestSilo.Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { node } }, strategy = new { node_timeout = "5m" } });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        await Fleet.UntilAsync(async () => (await TestSilo.Http.GetStringAsync($"/v1/deploys/{id}/logs?node={node}")).Contains("waiting for the gate", StringComparison.Ordinal),
            "the node's pre command waiting");

        var paused = false;
        try
        {
            agent.Signal(NodeSignals.SIGSTOP);
            paused = true;
            await NodesHttp.WaitForStatusAsync(TestSilo.Http, node, "failed", TimeSpan.FromSeconds(60));
            JsonElement lost = default;
            await Fleet.UntilAsync(async () => (lost = await DeployFleet.GetAsync(TestSilo.Http, id)).GetProperty("status").GetString() != "running", "the deploy ending");
            output.WriteLine(lost.ToString());
            Assert.Equal("failed", lost.GetProperty("status").GetString());
            var run = lost.GetProperty("nodes")[0];
            Assert.Equal("lost", run.GetProperty("status").GetString());

            // Back: the run goes on to its end (post runs), the agent reports success and the silo acknowledges it.
            File.WriteAllText(Path.Combine(Fleet.NodeDir(node), "go"), "");
            agent.Signal(NodeSignals.SIGCONT);
            paused = false;
            await Fleet.UntilAsync(() => Task.FromResult(Acknowledged(node, id)), "the agent's late result acknowledged by the silo");
            await agent.WaitForOutputAsync("agent: deploy " + id + " succeeded", TimeSpan.FromSeconds(30));
            Assert.Equal(1, Fleet.Runs(node));

            var after = await DeployFleet.GetAsync(TestSilo.Http, id);
            output.WriteLine(after.ToString());
            Assert.Equal("failed", after.GetProperty("status").GetString());
            var still = after.GetProperty("nodes")[0];
            Assert.Equal("lost", still.GetProperty("status").GetString());
            Assert.Equal(run.GetProperty("reason").GetString(), still.GetProperty("reason").GetString());
            Assert.Equal(run.GetProperty("finished").GetString(), still.GetProperty("finished").GetString());
            Assert.Equal(1, after.GetProperty("counts").GetProperty("lost").GetInt32());
        }
        finally
        {
            if (paused) agent.Signal(NodeSignals.SIGCONT);
        }
    }
}
