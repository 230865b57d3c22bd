using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// Strategy and cancel paths with real agents whose <c>pre</c> waits for a file the test writes: <c>max_parallel</c>
/// caps the nodes running at once, a pause that ends starts the next batch on its own, a cancel without <c>stop</c>
/// lets the running node finish while the pending ones are skipped, and a node that joins mid-deploy is left out.
/// One silo and fleet for all four, run one after another.
/// </summary>
public sealed class DeployStrategyTests(ITestOutputHelper output) : DeploySiloTest
{
    private HttpClient Http => TestSilo.Http;

    private string Shared => Path.Combine(Dir, "shared");

    /// <summary>
    /// pre.sh that marks the node started, adds it to the shared folder of running nodes and writes how many are there,
    /// waits for the file <c>go</c> in its folder, then leaves the folder.
    /// </summary>
    private string Gated => $$"""
        node=$(basename "$NODE_DIR")
        touch "$NODE_DIR/started"
        touch "{{Shared}}/running/$node"
        ls "{{Shared}}/running" | wc -l >> "{{Shared}}/at-once.log"
        echo waiting for the gate
        while [ ! -f "$NODE_DIR/go" ]; do sleep 0.1; done
        rm -f "{{Shared}}/running/$node"
        echo gate passed

        """;

    private void Open(string node) => File.WriteAllText(Path.Combine(Fleet.NodeDir(node), "go"), "");

    /// <summary>Closes every node's gate and forgets that it started, before the next deploy.</summary>
    private void CloseAll()
    {
        foreach (var node in Fleet.Names)
        {
            File.Delete(Path.Combine(Fleet.NodeDir(node), "go"));
            File.Delete(Path.Combine(Fleet.NodeDir(node), "started"));
        }
    }

    private async Task<string> Start(object body)
    {
        var (status, answer) = await DeployFleet.PostAsync(Http, body);
        Assert.True(status == 201, answer.ToString());
        return answer.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> Until(string id, Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        await Fleet.UntilAsync(async () => condition(last = await DeployFleet.GetAsync(Http, id)), what);
        return last;
    }

    private static bool Over(JsonElement d) => d.GetProperty("status").GetString() != "running";

    private static JsonElement Node(JsonElement deploy, string node)
        => deploy.GetProperty("nodes").EnumerateArray().Single(x => x.GetProperty("node").GetString() == node);

    private static int Running(JsonElement deploy) => DeployFleet.NodeStatuses(deploy).Values.Count(s => s == "running");

    [Fact]
    public async Task Max_parallel_a_pause_that_ends_a_cancel_that_lets_the_running_node_finish_and_a_late_joiner_left_out()
    {
        Directory.CreateDirectory(Path.Combine(Shared, "running"));
        await Fleet.StartAgentsAsync(Http, [Gated, Gated, Gated]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        var fleetTarget = new { tags = new Dictionary<string, string> { ["fleet"] = $"^{Fleet.Prefix}$" } };

        // max_parallel 2 in one batch of 3: two run, the third starts only when one of them has ended.
        var id = await Start(new { manifest_url = Fleet.ManifestUrl, target = fleetTarget, strategy = new { max_parallel = 2, node_timeout = "5m" } });
        var seen = await Until(id, d => Running(d) >= 2, "two nodes running");
        Assert.Equal(1, seen.GetProperty("batches").GetInt32());
        Assert.True(Running(seen) == 2, $"more than max_parallel running: {seen}");
        await Fleet.UntilAsync(() => Task.FromResult(n.Count(Fleet.Started) >= 2), "two pre commands running");
        var first = n.Where(Fleet.Started).ToArray();
        var third = n.Single(x => !Fleet.Started(x));
        Assert.Equal("pending", DeployFleet.NodeStatuses(await DeployFleet.GetAsync(Http, id))[third]);
        Open(first[0]);
        await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(third)), $"{third} starting once {first[0]} ended");
        var now = await DeployFleet.GetAsync(Http, id);
        Assert.Equal("succeeded", DeployFleet.NodeStatuses(now)[first[0]]);
        Assert.True(Running(now) <= 2, now.ToString());
        Open(first[1]);
        Open(third);
        var done = await Until(id, Over, "the max_parallel deploy ending");
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        // Each pre command wrote how many were running when it started: never more than 2.
        var atOnce = File.ReadAllLines(Path.Combine(Shared, "at-once.log")).Select(l => int.Parse(l.Trim())).ToArray();
        output.WriteLine($"running at each start: {string.Join(", ", atOnce)}");
        Assert.Equal(3, atOnce.Length);
        Assert.Equal(2, atOnce.Max());
        foreach (var node in n) Assert.Equal(1, Fleet.Runs(node));

        // A pause of 2 s between batches of 1: the second batch starts on its own once it has passed.
        foreach (var node in n) Open(node);
        id = await Start(new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { n[0], n[1] } }, strategy = new { batch = 1, pause = "2s" } });
        done = await Until(id, Over, "the paused deploy ending");
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        var ended = Node(done, n[0]).GetProperty("finished").GetDateTimeOffset();
        var next = Node(done, n[1]).GetProperty("started").GetDateTimeOffset();
        Assert.True(next - ended >= TimeSpan.FromSeconds(2), $"batch 2 started {(next - ended).TotalMilliseconds} ms after batch 1 ended");
        Assert.Equal(2, Fleet.Runs(n[1]));

        // DELETE without stop while the first node runs: it finishes succeeded, the pending ones are skipped.
        CloseAll();
        id = await Start(new { manifest_url = Fleet.ManifestUrl, target = fleetTarget, strategy = new { batch = 1, node_timeout = "5m" } });
        await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(n[0])), $"{n[0]}'s pre command running");
        using (var cancel = await Http.DeleteAsync($"/v1/deploys/{id}"))
        {
            Assert.Equal(200, (int)cancel.StatusCode);
            var answer = await cancel.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("cancelled; running nodes left to finish", answer.GetProperty("stop_reason").GetString());
        }
        var cancelled = await Until(id, d => DeployFleet.NodeStatuses(d)[n[2]] == "skipped", "the pending nodes skipped");
        Assert.Equal("running", cancelled.GetProperty("status").GetString());
        Assert.Equal("running", DeployFleet.NodeStatuses(cancelled)[n[0]]);
        Assert.Equal("skipped", DeployFleet.NodeStatuses(cancelled)[n[1]]);
        Open(n[0]);
        done = await Until(id, Over, "the cancelled deploy ending");
        output.WriteLine(done.ToString());
        Assert.Equal("cancelled", done.GetProperty("status").GetString());
        Assert.Equal("succeeded", DeployFleet.NodeStatuses(done)[n[0]]);
        Assert.Contains("gate passed", Node(done, n[0]).GetProperty("output_tail").GetString());
        Assert.Equal(3, Fleet.Runs(n[0]));
        Assert.Equal(2, Fleet.Runs(n[1]));
        Assert.Equal(1, Fleet.Runs(n[2]));
        Assert.False(Fleet.Started(n[1]) || Fleet.Started(n[2]), "a skipped node ran its pre command");

        // A node that joins while the deploy runs, matching its target, is not added to it.
        CloseAll();
        id = await Start(new { manifest_url = Fleet.ManifestUrl, target = fleetTarget, strategy = new { batch = 1, node_timeout = "5m" } });
        await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(n[0])), $"{n[0]}'s pre command running");
        await Fleet.StartAgentsAsync(Http, [Gated]);
        var late = Fleet.Names.Single(x => !n.Contains(x));
        foreach (var node in Fleet.Names) Open(node);
        done = await Until(id, Over, "the deploy with a late joiner ending");
        output.WriteLine(done.ToString());
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal(n, DeployFleet.NodeStatuses(done).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, done.GetProperty("batches").GetInt32());
        Assert.False(Fleet.Started(late), "the late joiner ran the deploy");
        Assert.Equal(0, Fleet.Runs(late));
        Assert.Equal(4, Fleet.Runs(n[0]));
    }
}
