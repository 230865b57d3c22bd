using System.Text.Json;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// The silo's side of <c>node_timeout</c>: a node whose agent stays connected (and alive, the silo's heartbeat timeout
/// being a minute) but never reports is counted <c>timed-out</c> by the silo once its grace past the timeout has gone.
/// </summary>
public sealed class SiloTimeoutDeployTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private SiloProcess _silo = null!;
    private DeployFleet _fleet = null!;

    public async Task InitializeAsync()
    {
        _silo = await SiloProcess.StartAsync(_dir.Path, null, "--Platform:Nodes:HeartbeatTimeout", "00:01:00");
        _fleet = new DeployFleet($"http://127.0.0.1:{_silo.Port}");
    }

    public async Task DisposeAsync()
    {
        await _fleet.DisposeAsync();
        await _silo.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_node_whose_agent_is_frozen_is_counted_timed_out_by_the_silo_past_its_grace()
    {
        await _fleet.StartAgentsAsync(_silo.Http, [DeployFleet.Block]);
        var node = _fleet.Names.Single();
        var agent = _fleet.Agent(node);
        // Frozen before the deploy: its frame waits unread, no result can come, and the node stays alive.
        agent.Signal(Nodes.Serf.NodeSignals.SIGSTOP);
        try
        {
            var (status, body) = await DeployFleet.PostAsync(_silo.Http, new { manifest_url = _fleet.ManifestUrl, target = new { nodes = new[] { node } }, strategy = new { node_timeout = "1s" } });
            Assert.True(status == 201, body.ToString());
            var id = body.GetProperty("id").GetString()!;
            JsonElement done = default;
            await _fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(_silo.Http, id)).GetProperty("status").GetString() != "running", "the deploy ending", seconds: 45);
            output.WriteLine(done.ToString());

            Assert.Equal("failed", done.GetProperty("status").GetString());
            var run = done.GetProperty("nodes").EnumerateArray().Single();
            Assert.Equal("timed-out", run.GetProperty("status").GetString());
            Assert.Contains("no result within node_timeout", run.GetProperty("reason").GetString());
            // Decided no earlier than node_timeout (1 s) plus the silo's grace (10 s) after the node started.
            Assert.True(run.GetProperty("finished").GetDateTimeOffset() - run.GetProperty("started").GetDateTimeOffset() >= TimeSpan.FromSeconds(11), run.ToString());
            Assert.False(_fleet.Started(node), "the frozen agent cannot have run the deploy");
        }
        finally
        {
            agent.Signal(Nodes.Serf.NodeSignals.SIGCONT);
        }
    }
}
