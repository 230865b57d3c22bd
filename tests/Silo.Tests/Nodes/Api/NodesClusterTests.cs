using System.Diagnostics;
using Platform.Protocol;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Nodes.Serf;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>Nodes in a cluster of two silo processes on PostgreSQL: an agent outlives the silo it was connected to.</summary>
[Collection(PostgresCollection.Name)]
public sealed class NodesClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    /// <summary>
    /// For the tests whose agents run in this test process and must stay alive across a silo's death: a thread of the
    /// process can stall for about a second (a virtual CPU not scheduled), longer than the 1.2 s a silo waits for a
    /// ping. Failure by silence is not what they test; it has tests of its own.
    /// </summary>
    private static string[] PatientHeartbeats(int silo) => ["--Platform:Nodes:HeartbeatTimeout", "00:00:05"];

    [Fact]
    public async Task Agent_whose_silo_is_killed_reconnects_to_the_other_and_its_node_never_fails()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Agent_whose_silo_is_killed_reconnects_to_the_other_and_its_node_never_fails));
        await using var cluster = new SiloClusterProcesses(connection, 2, output, extraArgs: PatientHeartbeats);
        await cluster.StartAllAsync();
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");

        var hello = RawAgent.NewHello("survivor", new() { ["role"] = "web" });
        await using var watcher = await RawAgent.ConnectAsync(cluster.HttpPorts[1], RawAgent.NewHello("watcher"));
        var agent = await RawAgent.ConnectAsync(cluster.HttpPorts[0], hello);
        // A second agent on the killed silo that never comes back: once it is failed, the fleet has judged that silo's nodes.
        await using var doomed = await RawAgent.ConnectAsync(cluster.HttpPorts[0], RawAgent.NewHello("doomed"));
        try
        {
            Assert.NotNull(agent.Welcome);
            var before = (await NodesHttp.NodeAsync(cluster.Client(1), "survivor"))!.Value.GetProperty("incarnation").GetInt64();

            await cluster[0].KillAsync();
            await agent.Closed;
            // What an agent does when its silo goes away: the next silo at once, the same agent id, until one welcomes it.
            var clock = Stopwatch.StartNew();
            await agent.DisposeAsync();
            agent = await ReconnectAsync(cluster.HttpPorts[1], hello, TimeSpan.FromSeconds(60));
            output.WriteLine($"reconnected to silo1 {clock.ElapsedMilliseconds} ms after the kill");

            var failed = await NodesHttp.WaitForStatusAsync(cluster.Client(1), "doomed", "failed", TimeSpan.FromSeconds(60));
            output.WriteLine($"the agent that did not come back failed {clock.ElapsedMilliseconds} ms after the kill");
            var ltime = await NodesHttp.FireAsync(cluster.Client(1), "after-kill", "x");
            await agent.WaitForAsync<UserEventFrame>(e => e.LTime == ltime, TimeSpan.FromSeconds(15));
            Assert.Equal("alive", await NodesHttp.StatusAsync(cluster.Client(1), "survivor"));
            var node = (await NodesHttp.NodeAsync(cluster.Client(1), "survivor"))!.Value;
            Assert.Equal(before, node.GetProperty("incarnation").GetInt64());
            Assert.Empty(watcher.All<MemberEventFrame>(m => m.Member.Name == "survivor" && m.Event == "member-failed"));
            cluster.Passed = true;
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_real_agent_whose_silo_is_killed_is_welcomed_by_the_other_and_no_handler_hears_it_fail()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_real_agent_whose_silo_is_killed_is_welcomed_by_the_other_and_no_handler_hears_it_fail));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");
        using var dir = new TempDir();
        var events = Path.Combine(dir.Path, "events.log");
        File.WriteAllText(Path.Combine(dir.Path, "record.sh"), "#!/bin/sh\nprintf '%s %s\\n' \"$SERF_EVENT\" \"$SERF_USER_EVENT\" >> \"$(dirname \"$0\")/events.log\"\n");
        var config = Path.Combine(dir.Path, "agent.json");
        File.WriteAllText(config, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["node_name"] = "real",
            ["servers"] = cluster.HttpPorts.Select(p => $"http://127.0.0.1:{p}").ToArray(),
            ["data_dir"] = Path.Combine(dir.Path, "data"),
            ["bind"] = $"127.0.0.1:{SiloProcess.FreePort()}",
            ["event_handlers"] = new[] { "sh " + Path.Combine(dir.Path, "record.sh") },
        }));
        await using var agent = NodeProcess.Start("platform agent real", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", config], new Dictionary<string, string> { ["PLATFORM_URL"] = "" });
        await NodesHttp.WaitForStatusAsync(cluster.Client(0), "real", "alive", TimeSpan.FromSeconds(30));
        var node = (await NodesHttp.NodeAsync(cluster.Client(0), "real"))!.Value;
        // Whichever silo the agent chose is the one killed; the other watches.
        var victim = node.GetProperty("silo").GetString() == cluster.Name(0) ? 0 : 1;
        var survivor = 1 - victim;
        var before = node.GetProperty("incarnation").GetInt64();
        // The fleet's events as the survivor publishes them. A stream, not a second agent: an agent in this test
        // process would be failed for its own silence if the process stalled, and its member-failed is not the point.
        using var monitor = await MonitorLines.OpenAsync(cluster.Client(survivor));
        await NodesHttp.FireAsync(cluster.Client(survivor), "before-kill", "x");
        await WaitForLineAsync(events, "user before-kill", agent);

        var victimAddress = (await cluster.StatusAsync(victim)).SelfAddress;
        await cluster[victim].KillAsync();
        var clock = Stopwatch.StartNew();
        // Until the victim is declared dead, a node grain placed there answers 503 (retry later), as a script sees it.
        while (await SiloOfAsync(cluster.Client(survivor), "real") != cluster.Name(survivor))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the agent was not welcomed by {cluster.Name(survivor)} within 60 s\n{agent.Output}");
            await Task.Delay(10);
        }
        output.WriteLine($"welcomed by {cluster.Name(survivor)} {clock.ElapsedMilliseconds} ms after the kill");
        await cluster.WaitForAsync([survivor], (_, s) => s.StatusOf(victimAddress) == "Dead", TimeSpan.FromSeconds(60), "the killed silo declared dead");
        output.WriteLine($"the killed silo was declared dead {clock.ElapsedMilliseconds} ms after the kill");

        await NodesHttp.FireAsync(cluster.Client(survivor), "after-kill", "y");
        await WaitForLineAsync(events, "user after-kill", agent);
        var after = (await NodesHttp.NodeAsync(cluster.Client(survivor), "real"))!.Value;
        Assert.Equal("alive", after.GetProperty("status").GetString());
        Assert.Equal(before, after.GetProperty("incarnation").GetInt64());
        var published = await monitor.UntilAsync(l => l.GetProperty("type").GetString() == "user" && l.GetProperty("name").GetString() == "after-kill",
            "the user event after-kill");
        Assert.DoesNotContain(published, l => l.GetProperty("type").GetString() == "member" && l.GetProperty("event").GetString() == "member-failed"
            && l.GetProperty("member").GetProperty("name").GetString() == "real");
        // Each event ran the handler once: none was replayed by the new silo, none heard of the node failing (the only node).
        Assert.Equal(["user before-kill", "user after-kill"], File.ReadAllLines(events).Where(l => l.StartsWith("user ", StringComparison.Ordinal)));
        Assert.DoesNotContain(File.ReadAllLines(events), l => l.StartsWith("member-failed", StringComparison.Ordinal));
        cluster.Passed = true;
    }

    /// <summary>The silo holding the node's agent, or null while the node's grain cannot answer (503).</summary>
    private static async Task<string?> SiloOfAsync(HttpClient http, string node)
    {
        using var r = await http.GetAsync($"/v1/nodes/{node}");
        if (r.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable) return null;
        r.EnsureSuccessStatusCode();
        return System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("silo").GetString();
    }

    private static async Task WaitForLineAsync(string file, string line, NodeProcess agent)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(file) || !File.ReadAllLines(file).Contains(line))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the handler did not record '{line}' within 30 s\n{agent.Output}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Agent_that_reconnects_soon_after_its_silo_is_declared_dead_is_not_failed()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Agent_that_reconnects_soon_after_its_silo_is_declared_dead_is_not_failed));
        await using var cluster = new SiloClusterProcesses(connection, 2, output, extraArgs: PatientHeartbeats);
        await cluster.StartAllAsync();
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");
        var doomedSilo = (await cluster.StatusAsync(0)).Silos.Single(s => s.Self).Address;

        var hello = RawAgent.NewHello("late", new() { ["role"] = "web" });
        var agent = await RawAgent.ConnectAsync(cluster.HttpPorts[0], hello);
        try
        {
            Assert.NotNull(agent.Welcome);
            var before = (await NodesHttp.NodeAsync(cluster.Client(1), "late"))!.Value.GetProperty("incarnation").GetInt64();
            await cluster[0].KillAsync();
            await agent.Closed;
            await agent.DisposeAsync();
            // Until the silo is declared dead the node's grain may still be placed there and no other silo can take
            // the agent; the grace to come back counts from the declaration, not from the hub's last renewal.
            await cluster.WaitForAsync([1], (_, s) => s.StatusOf(doomedSilo) == "Dead", TimeSpan.FromSeconds(60), "silo0 declared dead");
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // the agent's own delay (a slow machine), well inside the 3 s grace
            agent = await ReconnectAsync(cluster.HttpPorts[1], hello, TimeSpan.FromSeconds(30));

            var ltime = await NodesHttp.FireAsync(cluster.Client(1), "back", "x");
            await agent.WaitForAsync<UserEventFrame>(e => e.LTime == ltime, TimeSpan.FromSeconds(15));
            var node = (await NodesHttp.NodeAsync(cluster.Client(1), "late"))!.Value;
            // A node failed meanwhile would be alive again, but at a new incarnation.
            Assert.Equal(("alive", before), (node.GetProperty("status").GetString(), node.GetProperty("incarnation").GetInt64()));
            cluster.Passed = true;
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task TTL_report_made_at_one_silo_reaches_the_agent_connected_to_the_other()
    {
        var connection = await postgres.DatabaseForAsync(nameof(TTL_report_made_at_one_silo_reaches_the_agent_connected_to_the_other));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");

        await using var agent = await RawAgent.ConnectAsync(cluster.HttpPorts[0], RawAgent.NewHello("ttl-node") with { Checks = [new("app", "App", "critical", "")] });
        Assert.NotNull(agent.Welcome);
        // The silo taking the report does not hold the connection: the fleet passes it to the one hub that does.
        using (var pass = await cluster.Client(1).PutAsync("/v1/agent/check/pass/app?node=ttl-node&note=from%20silo1", null))
            Assert.Equal(System.Net.HttpStatusCode.OK, pass.StatusCode);
        var frame = await agent.WaitForAsync<CheckFrame>(c => c.Check.Id == "app", TimeSpan.FromSeconds(15));
        Assert.Equal(("passing", "from silo1", "App"), (frame.Check.Status, frame.Check.Output, frame.Check.Name));
        cluster.Passed = true;
    }

    [Fact]
    public async Task Check_registered_at_one_silo_reaches_the_agent_connected_to_the_other_and_its_next_welcome()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Check_registered_at_one_silo_reaches_the_agent_connected_to_the_other_and_its_next_welcome));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        await cluster.WaitForAsync([0, 1], (_, s) => s.ActiveCount == 2, TimeSpan.FromSeconds(30), "both silos active");

        var hello = RawAgent.NewHello("reg-node");
        await using (var agent = await RawAgent.ConnectAsync(cluster.HttpPorts[0], hello))
        {
            Assert.NotNull(agent.Welcome);
            // Stored by the node's grain, which passes the set through the fleet to the hub holding the connection.
            using (var registered = await cluster.Client(1).PutAsync("/v1/nodes/reg-node/checks", new StringContent("""{"ID": "reg", "Name": "Reg", "TTL": "1h"}""")))
                Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
            var frame = await agent.WaitForAsync<ChecksFrame>(f => f.Checks.Any(c => c.Id == "reg"), TimeSpan.FromSeconds(15));
            Assert.Contains("\"TTL\": \"1h\"", Assert.Single(frame.Checks).Definition);
        }

        // The same agent reconnecting to the other silo gets the registered set right after its welcome.
        await using var again = await ReconnectAsync(cluster.HttpPorts[1], hello, TimeSpan.FromSeconds(30));
        var resent = await again.WaitForAsync<ChecksFrame>(_ => true, TimeSpan.FromSeconds(15));
        Assert.Equal(["reg"], resent.Checks.Select(c => c.Id));
        cluster.Passed = true;
    }

    private static async Task<RawAgent> ReconnectAsync(int port, HelloFrame hello, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            RawAgent? attempt = null;
            try
            {
                attempt = await RawAgent.ConnectAsync(port, hello);
                if (attempt.Welcome is not null) return attempt;
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or TimeoutException)
            {
            }
            if (attempt is not null) await attempt.DisposeAsync();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no silo welcomed {hello.Name} again within {timeout.TotalSeconds} s");
            await Task.Delay(200);
        }
    }
}
