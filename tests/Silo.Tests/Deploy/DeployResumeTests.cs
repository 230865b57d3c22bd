using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// A deploy whose silo is killed (-9) mid-rollout, on PostgreSQL with three silo processes: its grain reactivates on
/// another silo from storage (its reminder moves with the cluster view) and finishes, with every node run once.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DeployResumeTests(PostgresFixture postgres, ITestOutputHelper output)
{
    /// <summary>pre.sh that marks the node started and waits for the test to release the rollout.</summary>
    private const string Gate = "touch \"$NODE_DIR/started\"\nwhile [ ! -e \"$NODE_DIR/../release\" ]; do sleep 0.1; done\n";

    /// <summary>The silo whose GET /v1/cluster lists activations of <paramref name="grainType"/>.</summary>
    private static async Task<int?> HolderAsync(SiloClusterProcesses cluster, IEnumerable<int> silos, string grainType)
    {
        foreach (var i in silos)
        {
            using var doc = JsonDocument.Parse(await cluster.Client(i).GetStringAsync("/v1/cluster"));
            foreach (var type in doc.RootElement.GetProperty("grainTypes").EnumerateArray())
                if (type.GetProperty("grainType").GetString() == grainType && type.GetProperty("activations").GetInt64() > 0) return i;
        }
        return null;
    }

    [Fact]
    public async Task Deploy_resumes_on_another_silo_after_kill_9_and_runs_no_node_twice()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Deploy_resumes_on_another_silo_after_kill_9_and_runs_no_node_twice));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(60));

        // The agents stay on silo 2 throughout; the silo killed is the one holding the deploy grain, never silo 2.
        const int agentsSilo = 2;
        await using var fleet = new DeployFleet($"http://127.0.0.1:{cluster.HttpPorts[agentsSilo]}");
        var http = cluster.Client(agentsSilo);
        await fleet.StartAgentsAsync(http, [Gate, Gate, Gate]);
        var n = fleet.Names.Order(StringComparer.Ordinal).ToArray();

        string? id = null;
        int? holder = null;
        for (var attempt = 0; attempt < 8 && holder is null; attempt++)
        {
            var (status, body) = await DeployFleet.PostAsync(http, new
            {
                manifest_url = fleet.ManifestUrl,
                target = new { nodes = n },
                strategy = new { batch = 1, failure_threshold = "100%" },
            });
            Assert.True(status == 201, body.ToString());
            id = body.GetProperty("id").GetString()!;
            var started = await DeployFleet.GetAsync(http, id);
            Assert.Equal("running", DeployFleet.NodeStatuses(started)[n[0]]);
            var at = await HolderAsync(cluster, [0, 1, 2], "deploy");
            output.WriteLine($"deploy {id} is held by silo{at}");
            if (at is 0 or 1)
            {
                holder = at;
                break;
            }
            // Placement put it beside the agents: stop it (its node is stopped before its pre command ends, so nothing ran) and try another id.
            using var cancel = await http.DeleteAsync($"/v1/deploys/{id}?stop=true");
            var stoppedId = id;
            await fleet.UntilAsync(async () => (await DeployFleet.GetAsync(http, stoppedId)).GetProperty("status").GetString() == "cancelled", "the cancelled attempt ending");
        }
        Assert.True(holder is not null, "placement never put the deploy grain on silo 0 or 1 in 8 tries");
        await fleet.UntilAsync(() => Task.FromResult(fleet.Started(n[0])), $"{n[0]} starting");
        Assert.All(n, node => Assert.Equal(0, fleet.Runs(node)));

        await cluster[holder!.Value].KillAsync();
        output.WriteLine($"killed silo{holder}");
        File.WriteAllText(Path.Combine(fleet.NodeDir(n[0]), "..", "release"), "");

        JsonElement done = default;
        await fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(http, id!)).GetProperty("status").GetString() != "running", "the deploy finishing after its silo died", seconds: 120);
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.All(n, node => Assert.Equal("succeeded", DeployFleet.NodeStatuses(done)[node]));
        // The handler-side marker: every node's post command ran exactly once, across the cancelled attempts and the resume.
        Assert.All(n, node => Assert.Equal(1, fleet.Runs(node)));
        var now = await HolderAsync(cluster, new[] { 0, 1, 2 }.Where(i => i != holder), "deploy");
        Assert.NotNull(now);
        cluster.Passed = true;
    }

    /// <summary>pre.sh that prints 300 numbered lines over some seconds.</summary>
    private const string Printer = "touch \"$NODE_DIR/started\"\ni=1\nwhile [ $i -le 300 ]; do echo \"line $i\"; i=$((i+1)); sleep 0.05; done\n";

    [Fact]
    public async Task A_nodes_output_survives_kill_9_of_the_deploys_silo_whole_in_order_and_without_duplicates()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_nodes_output_survives_kill_9_of_the_deploys_silo_whole_in_order_and_without_duplicates));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(60));

        const int agentsSilo = 2;
        await using var fleet = new DeployFleet($"http://127.0.0.1:{cluster.HttpPorts[agentsSilo]}");
        var http = cluster.Client(agentsSilo);
        await fleet.StartAgentsAsync(http, [Printer]);
        var node = fleet.Names.Single();

        // The deploy grain must live on a silo other than the agent's (placement decides; a deploy placed beside the agent is
        // stopped and another started). Each attempt's node runs its printer; the one kept is the first not beside the agent.
        string? id = null;
        int? holder = null;
        for (var attempt = 0; attempt < 8 && holder is null; attempt++)
        {
            File.Delete(Path.Combine(fleet.NodeDir(node), "started"));
            var (status, body) = await DeployFleet.PostAsync(http, new { manifest_url = fleet.ManifestUrl, target = new { nodes = new[] { node } } });
            Assert.True(status == 201, body.ToString());
            id = body.GetProperty("id").GetString()!;
            var at = await HolderAsync(cluster, [0, 1, 2], "deploy");
            output.WriteLine($"deploy {id} is held by silo{at}");
            if (at is 0 or 1)
            {
                holder = at;
                break;
            }
            using var cancel = await http.DeleteAsync($"/v1/deploys/{id}?stop=true");
            var stoppedId = id;
            await fleet.UntilAsync(async () => (await DeployFleet.GetAsync(http, stoppedId)).GetProperty("status").GetString() == "cancelled", "the cancelled attempt ending");
        }
        Assert.True(holder is not null, "placement never put the deploy grain on silo 0 or 1 in 8 tries");

        // Killed while the node's command prints, once its output is being followed live.
        var logPath = $"/v1/deploys/{id}/nodes/{node}/log";
        await fleet.UntilAsync(async () => (await http.GetStringAsync(logPath)).Contains("line 3\n", StringComparison.Ordinal), "the node's output arriving live", seconds: 120);
        var logHolder = await HolderAsync(cluster, [0, 1, 2], "joblog");
        await cluster[holder!.Value].KillAsync();
        output.WriteLine($"killed silo{holder} (the deploy's; the log grain was on silo{logHolder})");

        JsonElement done = default;
        await fleet.UntilAsync(async () => (done = await DeployFleet.GetAsync(http, id!)).GetProperty("status").GetString() != "running", "the deploy finishing after its silo died", seconds: 180);
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());

        var text = await http.GetStringAsync(logPath);
        var printed = text.Split('\n').Where(l => l.StartsWith("line ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"line {i}"), printed);
        Assert.Equal(1, text.Split("Deploy manifest succeeded.").Length - 1);
        Assert.Equal(1, fleet.Runs(node));

        // The same log by the older route, and one byte range of it.
        Assert.Equal(text, await http.GetStringAsync($"/v1/deploys/{id}/logs?node={node}"));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, logPath);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        using var part = await http.SendAsync(ranged);
        Assert.Equal(206, (int)part.StatusCode);
        Assert.Equal(text.Substring(10, 10), await part.Content.ReadAsStringAsync());
        cluster.Passed = true;
    }
}
