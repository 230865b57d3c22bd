using System.Text.Json;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// Cluster deploys end to end on one silo: real agents running Stretcher's procedure (real HTTP, tar, rsync, sh), a
/// rollout in batches with a failing node and a killed agent, cancel, and the API's bad input answers.
/// </summary>
public sealed class ClusterDeployTests(ITestOutputHelper output) : DeploySiloTest
{
    private HttpClient Http => TestSilo.Http;

    private async Task<JsonElement> UntilDeploy(string id, Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        await Fleet.UntilAsync(async () => condition(last = await DeployFleet.GetAsync(Http, id)), what);
        return last;
    }

    [Fact]
    public async Task Rollout_in_batches_stops_past_the_failure_threshold_skips_later_batches_and_counts_a_killed_agent_lost()
    {
        // 20 agents, sorted by name: batch 1 = 01, 02 (02 blocks, then its agent is killed); batch 2 = 03, 04 (03 fails); 05-20 never start.
        string[] scripts = [DeployFleet.Pass, DeployFleet.Block, DeployFleet.Fail, .. Enumerable.Repeat(DeployFleet.Pass, 17)];
        await Fleet.StartAgentsAsync(Http, scripts);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();

        var (status, body) = await DeployFleet.PostAsync(Http, new
        {
            manifest_url = Fleet.ManifestUrl,
            target = new { tags = new Dictionary<string, string> { ["fleet"] = $"^{Fleet.Prefix}$" } },
            strategy = new { batch = 2, failure_threshold = 1, node_timeout = "5m" },
        });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal(10, body.GetProperty("batches").GetInt32());

        await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(n[1])), $"{n[1]}'s deploy starting");
        await Fleet.Agent(n[1]).KillAsync();

        var done = await UntilDeploy(id, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
        output.WriteLine(done.ToString());
        var nodes = DeployFleet.NodeStatuses(done);
        Assert.Equal("failed", done.GetProperty("status").GetString());
        Assert.Contains("failure threshold exceeded", done.GetProperty("stop_reason").GetString());
        Assert.Equal("succeeded", nodes[n[0]]);
        Assert.Equal("lost", nodes[n[1]]);
        Assert.Equal("failed", nodes[n[2]]);
        Assert.Equal("succeeded", nodes[n[3]]);
        foreach (var later in n[4..]) Assert.Equal("skipped", nodes[later]);

        // Real outcomes on disk: the archive synced where it succeeded, each node run once, nothing where it did not run.
        Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(Fleet.NodeDir(n[0]), "dest", "index.html")));
        Assert.Equal(1, Fleet.Runs(n[0]));
        Assert.Equal(1, Fleet.Runs(n[3]));
        Assert.False(Directory.Exists(Path.Combine(Fleet.NodeDir(n[2]), "dest")), "a deploy failing in pre must not touch dest");
        foreach (var later in n[4..]) Assert.Equal(0, Fleet.Runs(later));

        var failed = done.GetProperty("nodes").EnumerateArray().Single(x => x.GetProperty("node").GetString() == n[2]);
        Assert.Equal(1, failed.GetProperty("exit_code").GetInt32());
        Assert.Contains("failing on purpose", failed.GetProperty("output_tail").GetString());
        Assert.Equal(2, failed.GetProperty("batch").GetInt32());
        var lost = done.GetProperty("nodes").EnumerateArray().Single(x => x.GetProperty("node").GetString() == n[1]);
        Assert.Contains("failed while running", lost.GetProperty("reason").GetString());

        // The history lists it, newest first, by its target.
        var history = JsonDocument.Parse(await Http.GetStringAsync($"/v1/deploys?target={Fleet.Prefix}")).RootElement;
        Assert.Equal(id, history[0].GetProperty("id").GetString());
        Assert.Equal("failed", history[0].GetProperty("status").GetString());

        // A node's output is readable after the fact.
        var log = await Http.GetStringAsync($"/v1/deploys/{id}/logs?node={n[0]}");
        Assert.Contains("Deploy manifest succeeded.", log);
    }

    [Fact]
    public async Task A_node_that_outlasts_its_node_timeout_is_stopped_by_its_agent_and_reported_timed_out()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Block]);
        var node = Fleet.Names.Single();
        var (status, body) = await DeployFleet.PostAsync(Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { node } }, strategy = new { node_timeout = "2s" } });
        Assert.True(status == 201, body.ToString());
        var done = await UntilDeploy(body.GetProperty("id").GetString()!, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
        output.WriteLine(done.ToString());

        Assert.True(Fleet.Started(node), "the node's pre command never ran");
        Assert.Equal("failed", done.GetProperty("status").GetString());
        Assert.Contains("1 failed, timed-out or lost > 0 allowed", done.GetProperty("stop_reason").GetString());
        Assert.Equal(1, done.GetProperty("counts").GetProperty("timed-out").GetInt32());
        var run = done.GetProperty("nodes").EnumerateArray().Single();
        Assert.Equal("timed-out", run.GetProperty("status").GetString());
        Assert.Equal(1, run.GetProperty("exit_code").GetInt32());
        // The agent's own report (the silo decides only 10 s past the timeout, and then gives a reason): stopped at 2 s.
        Assert.True(!run.TryGetProperty("reason", out var reason) || reason.ValueKind == JsonValueKind.Null, run.ToString());
        Assert.InRange(run.GetProperty("duration_ms").GetInt64(), 2000, 30_000);
        Assert.Contains("timeout 2s reached; stopped", run.GetProperty("output_tail").GetString());
        Assert.Equal(0, Fleet.Runs(node));
        Assert.False(Directory.Exists(Path.Combine(Fleet.NodeDir(node), "dest")), "a deploy stopped in pre must not touch dest");
    }

    /// <summary>Runs the <c>platform</c> CLI against the silo; its exit code and output.</summary>
    private async Task<(int ExitCode, string Output)> Cli(params string[] args)
    {
        var result = await Nodes.Serf.NodeProcess.RunAsync("platform " + string.Join(' ', args), "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), .. args, "--url", $"http://127.0.0.1:{TestSilo.Port}"], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["DOTNET_gcServer"] = "0" });
        output.WriteLine($"$ platform {string.Join(' ', args)} → {result.ExitCode}\n{result.Output}");
        return result;
    }

    [Fact]
    public async Task Cancel_from_the_cli_during_a_pause_skips_the_nodes_not_started_and_leaves_the_finished_ones()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Pass, DeployFleet.Pass, DeployFleet.Pass]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        var manifest = Path.Combine(Dir, "manifest.yml");
        File.WriteAllText(manifest, Fleet.Manifest(Fleet.Checksum));
        var (code, text) = await Cli(["deploy", "start", "--manifest-file", manifest, .. n.SelectMany(x => new[] { "--node", x }),
            "--batch", "1", "--pause", "1h", "--notify-key", $"/deploy_notify/{Fleet.Prefix}", "--notify-event", "deployed", "--format", "json"]);
        Assert.True(code == 0, text);
        var id = JsonDocument.Parse(text[text.IndexOf('{')..]).RootElement.GetProperty("id").GetString()!;
        await UntilDeploy(id, d => DeployFleet.NodeStatuses(d)[n[0]] == "succeeded", "the first batch finishing");

        (code, text) = await Cli("deploy", "cancel", id);
        Assert.True(code == 0, text);
        Assert.Contains($"Deploy {id}: cancelled", text);
        var done = await UntilDeploy(id, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
        Assert.Equal("cancelled", done.GetProperty("status").GetString());
        var nodes = DeployFleet.NodeStatuses(done);
        Assert.Equal(["succeeded", "skipped", "skipped"], n.Select(x => nodes[x]));
        Assert.Equal([1, 0, 0], n.Select(Fleet.Runs));

        (code, text) = await Cli("deploy", "logs", id, "--node", n[0]);
        Assert.True(code == 0, text);
        Assert.Contains("Deploy manifest succeeded.", text);
        (code, text) = await Cli("deploy", "list", "--target", n[0]);
        Assert.True(code == 0 && text.Contains(id, StringComparison.Ordinal), text);

        // The finish set the notification key: existing etcd watchers react.
        var key = JsonDocument.Parse(await Http.GetStringAsync($"/v2/keys/deploy_notify/{Fleet.Prefix}")).RootElement;
        Assert.Contains(id, key.GetProperty("node").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Cancel_with_stop_stops_the_running_node_and_it_ends_failed_without_running_post()
    {
        // The node waits for a release file that only cleanup writes.
        const string gate = "touch \"$NODE_DIR/started\"\nwhile [ ! -e \"$NODE_DIR/release\" ]; do sleep 0.1; done\n";
        await Fleet.StartAgentsAsync(Http, [gate, DeployFleet.Pass]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        try
        {
            var (status, body) = await DeployFleet.PostAsync(Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = n }, strategy = new { batch = 1 } });
            Assert.True(status == 201, body.ToString());
            var id = body.GetProperty("id").GetString()!;
            await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(n[0])), $"{n[0]} starting");

            using var cancel = await Http.DeleteAsync($"/v1/deploys/{id}?stop=true");
            Assert.Equal(200, (int)cancel.StatusCode);
            var done = await UntilDeploy(id, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
            Assert.Equal("cancelled", done.GetProperty("status").GetString());
            var first = done.GetProperty("nodes").EnumerateArray().Single(x => x.GetProperty("node").GetString() == n[0]);
            Assert.Equal("failed", first.GetProperty("status").GetString());
            Assert.Equal("stopped by cancel", first.GetProperty("reason").GetString());
            Assert.Equal("skipped", DeployFleet.NodeStatuses(done)[n[1]]);
            Assert.Equal([0, 0], n.Select(Fleet.Runs));
        }
        finally
        {
            File.WriteAllText(Path.Combine(Fleet.NodeDir(n[0]), "release"), "");
        }
    }

    [Fact]
    public async Task A_cancel_that_stops_running_nodes_reaches_an_agent_that_was_away_when_it_was_sent()
    {
        // The node records its pre command's pid and waits for a release file that only cleanup writes.
        const string gate = "echo $$ > \"$NODE_DIR/pre.pid\"\ntouch \"$NODE_DIR/started\"\nwhile [ ! -e \"$NODE_DIR/release\" ]; do sleep 0.1; done\n";
        await Fleet.StartAgentsAsync(Http, [gate]);
        var node = Fleet.Names.Single();
        var agent = Fleet.Agent(node);
        var paused = false;
        try
        {
            var (status, body) = await DeployFleet.PostAsync(Http, new { manifest_url = Fleet.ManifestUrl, target = new { nodes = new[] { node } }, strategy = new { node_timeout = "5m" } });
            Assert.True(status == 201, body.ToString());
            var id = body.GetProperty("id").GetString()!;
            await Fleet.UntilAsync(() => Task.FromResult(Fleet.Started(node) && File.Exists(Path.Combine(Fleet.NodeDir(node), "pre.pid"))), $"{node} starting");
            var pre = int.Parse(File.ReadAllText(Path.Combine(Fleet.NodeDir(node), "pre.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

            // The agent goes away (frozen: no heartbeat) while its deploy goes on running on the node.
            agent.Signal(Nodes.Serf.NodeSignals.SIGSTOP);
            paused = true;
            await Nodes.Api.NodesHttp.WaitForStatusAsync(Http, node, "failed", TimeSpan.FromSeconds(60));
            using (var cancel = await Http.DeleteAsync($"/v1/deploys/{id}?stop=true"))
                Assert.Equal(200, (int)cancel.StatusCode);
            var done = await UntilDeploy(id, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
            Assert.Equal("cancelled", done.GetProperty("status").GetString());
            Assert.Equal("lost", DeployFleet.NodeStatuses(done)[node]);
            Assert.True(Directory.Exists($"/proc/{pre}"), "the node's pre command must still run while its agent is away");

            // Back: the silo's resent cancel reaches it, its run is stopped, and it reports (its output says so).
            agent.Signal(Nodes.Serf.NodeSignals.SIGCONT);
            paused = false;
            await Fleet.UntilAsync(() => Task.FromResult(!Alive(pre)), "the pre command stopped by the cancel resent after the agent came back");
            await Fleet.UntilAsync(async () => (await Http.GetStringAsync($"/v1/deploys/{id}/logs?node={node}")).Contains("stopped by the silo (deploy cancelled)", StringComparison.Ordinal),
                "the node's output saying it was stopped");
            Assert.Equal(0, Fleet.Runs(node));
        }
        finally
        {
            if (paused) agent.Signal(Nodes.Serf.NodeSignals.SIGCONT);
            File.WriteAllText(Path.Combine(Fleet.NodeDir(node), "release"), "");
        }
    }

    /// <summary>Whether process <paramref name="pid"/> lives (a zombie does not).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_finished_deploy_sets_its_notification_key_and_fires_its_user_event(bool succeed)
    {
        await Fleet.StartAgentsAsync(Http, [succeed ? DeployFleet.Pass : DeployFleet.Fail]);
        var node = Fleet.Names.Single();
        var key = $"/deploy_notify/{Fleet.Prefix}";
        var eventName = $"deployed-{Fleet.Prefix}";
        var (status, body) = await DeployFleet.PostAsync(Http, new
        {
            manifest_url = Fleet.ManifestUrl,
            target = new { nodes = new[] { node } },
            on_finish = new { key, @event = eventName },
        });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;
        var expected = succeed ? "succeeded" : "failed";
        var done = await UntilDeploy(id, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
        Assert.Equal(expected, done.GetProperty("status").GetString());

        // The key (an etcd ?wait=true watcher wakes up) and the user event (Serf handlers, consul watch) carry the same payload.
        JsonElement notice = default;
        await Fleet.UntilAsync(async () =>
        {
            using var r = await Http.GetAsync($"/v2/keys{key}");
            if (!r.IsSuccessStatusCode) return false;
            notice = JsonDocument.Parse(JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("node").GetProperty("value").GetString()!).RootElement.Clone();
            return true;
        }, "the notification key being set");
        Assert.Equal(id, notice.GetProperty("id").GetString());
        Assert.Equal(expected, notice.GetProperty("status").GetString());

        JsonElement fired = default;
        await Fleet.UntilAsync(async () =>
        {
            var events = JsonDocument.Parse(await Http.GetStringAsync($"/v1/events?name={eventName}")).RootElement;
            if (events.GetArrayLength() == 0) return false;
            fired = events[0].Clone();
            return true;
        }, "the user event being fired");
        var payload = JsonDocument.Parse(fired.GetProperty("payload").GetBytesFromBase64()).RootElement;
        Assert.Equal(id, payload.GetProperty("id").GetString());
        Assert.Equal(expected, payload.GetProperty("status").GetString());
    }

    private static readonly (string Json, string Expected)[] BadRequests =
    [
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"strategy":{"batch":"0%"}}""", "strategy.batch"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"strategy":{"failure_threshold":"150%"}}""", "strategy.failure_threshold"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"strategy":{"batch":[1,"0"]}}""", "strategy.batch[1]"),
        ("""{"manifest_url":"http://x/m.yml","target":{"tags":{"role":"^no-such-role$"}}}""", "matches no alive node"),
        ("""{"manifest_url":"http://x/m.yml","target":{"nodes":["no-such-node"]}}""", "target.nodes"),
        ("""{"manifest_url":"http://x/m.yml","manifest":"src: x","target":{"all":true}}""", "manifest_url, manifest"),
        ("""{"manifest_url":"ftp://x/m.yml","target":{"all":true}}""", "manifest_url"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"strategy":{"pause":"soon"}}""", "strategy.pause"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"stratgy":{}}""", "stratgy: unknown field"),
        ("""{"manifest_url":"http://x/m.yml","target":{}}""", "target: expected"),
        ("""{"manifest":"src: [http://x/a.tgz\ndest: /tmp/a","target":{"all":true}}""", "manifest is not valid YAML at line"),
        ("""{"manifest":"src: http://x/a.tgz\nchecksum: d41d8cd98f00b204e9800998ecf8427e","target":{"all":true}}""", "dest is required"),
        ("""{"manifest":"src: http://x/a.tgz\nchecksum: abc123\ndest: /tmp/a","target":{"all":true}}""", "manifest line 2: checksum: expected"),
        ("""{"manifest":"dest: {{ env \"X\"","target":{"all":true}}""", "never closed"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"stretch":{"retry":-1}}""", "stretch.retry"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"stretch":{"max_bandwidth":"fast"}}""", "stretch.max_bandwidth"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"stretch":{"retry_wait":"soon"}}""", "stretch.retry_wait"),
        ("""{"manifest_url":"http://x/m.yml","target":{"all":true},"stretch":{"timeout":"1m"}}""", "stretch.timeout: unknown field"),
    ];

    /// <summary>Inline manifests that fail on every node, and what the 400 names.</summary>
    private static readonly (string Manifest, string Expected)[] BadManifests =
    [
        ("src: http://x/a.tgz\ncommands:\n  pre: [\"true\"\n", "manifest is not valid YAML at line 4, column 1: While parsing a flow sequence"),
        ("src: http://x/a.tgz\nchecksum: d41d8cd98f00b204e9800998ecf8427e\n", "manifest: dest is required when src is set"),
        ("src: http://x/a.tgz\nchecksum: 0123456789abcdef\ndest: /tmp/a\n", "manifest line 2: checksum: expected a hex md5 (32), sha1 (40), sha256 (64) or sha512 (128) digest"),
        ("dest: /tmp/a\ncommands:\n  pre: [\"{{ shell }}\"]\n", "manifest line 3: unknown template function 'shell'"),
    ];

    [Fact]
    public async Task An_inline_manifest_that_cannot_parse_is_a_400_and_nothing_is_stored_or_started_while_templates_are_left_to_the_nodes()
    {
        await Fleet.StartAgentsAsync(Http, [DeployFleet.Pass]);
        var node = Fleet.Names.Single();
        foreach (var (manifest, expected) in BadManifests)
        {
            var (status, body) = await DeployFleet.PostAsync(Http, new { manifest, target = new { nodes = new[] { node } } });
            output.WriteLine($"{manifest} → {status} {body}");
            Assert.True(status == 400, $"{manifest} → {status}: {body}");
            Assert.Contains(expected, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(0, JsonDocument.Parse(await Http.GetStringAsync("/v1/deploys")).RootElement.GetArrayLength());
        Assert.False(Fleet.Started(node));

        // Its dest comes from the node's environment ({{ env "NODE_DIR" }}): accepted, and filled in on the node.
        var (ok, started) = await DeployFleet.PostAsync(Http, new { manifest = Fleet.Manifest(Fleet.Checksum), target = new { nodes = new[] { node } } });
        Assert.True(ok == 201, started.ToString());
        var done = await UntilDeploy(started.GetProperty("id").GetString()!, d => d.GetProperty("status").GetString() != "running", "the deploy ending");
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Equal("release 1\n", File.ReadAllText(Path.Combine(Fleet.NodeDir(node), "dest", "index.html")));
    }

    [Fact]
    public async Task A_request_that_makes_no_sense_is_a_400_naming_the_field()
    {
        foreach (var (json, expected) in BadRequests)
        {
            using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
            using var r = await Http.PostAsync("/v1/deploys", content);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(400 == (int)r.StatusCode, $"{json} → {(int)r.StatusCode}: {text}");
            Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!.Contains(expected, StringComparison.Ordinal), $"{json} → {text}; expected it to name {expected}");
        }
    }

    [Fact]
    public async Task An_unknown_deploy_is_a_404()
    {
        using var r = await Http.GetAsync("/v1/deploys/no-such-deploy");
        Assert.Equal(404, (int)r.StatusCode);
        using var d = await Http.DeleteAsync("/v1/deploys/no-such-deploy");
        Assert.Equal(404, (int)d.StatusCode);
    }
}
