using System.Text.Json;
using Platform.Cli.Tests.Support;
using Platform.Client;

namespace Platform.Cli.Tests;

/// <summary>The real <c>platform</c> executable against a real silo process and real node agents (<c>platform agent</c>).</summary>
public sealed class EndToEndTests(FleetFixture fleet) : IClassFixture<FleetFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Members_prints_the_agents_in_serfs_columns()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("members", "-status", "alive", "-name", "(web|db)-1", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal(
            $"db-1   127.0.0.1:{fleet.DbPort}  alive  role=db\n" +
            $"web-1  127.0.0.1:{fleet.WebPort}  alive  role=web\n", stdout);
    }

    [Fact]
    public async Task Members_json_is_serfs_document()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("members", "-format", "json", "-name", "web-1", "-url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal($$"""
            {
              "members": [
                {
                  "name": "web-1",
                  "addr": "127.0.0.1:{{fleet.WebPort}}",
                  "port": {{fleet.WebPort}},
                  "tags": {
                    "role": "web"
                  },
                  "status": "alive",
                  "protocol": {
                    "max": 5,
                    "min": 2,
                    "version": 5
                  }
                }
              ]
            }

            """, stdout);
    }

    [Fact]
    public async Task Members_status_filter_is_a_regexp_as_in_serf()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("members", "-status", "alive|failed", "-name", "web-1", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("web-1  ", stdout);
        (_, stdout, _) = await PlatformCommand.RunAsync("members", "-status", "le.*", "-name", "web-1", "--url", fleet.Url);
        Assert.Equal("\n", stdout);
    }

    [Fact]
    public async Task Members_tag_filter_is_an_anchored_regexp()
    {
        var (_, stdout, _) = await PlatformCommand.RunAsync("members", "-tag", "role=w.*", "--url", fleet.Url);
        Assert.StartsWith("web-1  ", stdout);
        Assert.DoesNotContain("db-1", stdout);
        (_, stdout, _) = await PlatformCommand.RunAsync("members", "-tag", "role=w", "--url", fleet.Url);
        Assert.Equal("\n", stdout);
    }

    [Fact]
    public async Task Event_size_is_limited_by_the_silos_setting_not_serfs_default()
    {
        var fits = new string('x', 700);  // over Serf's 512, within the silo's 1,024
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("event", "big-event", fits, "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal("Event 'big-event' dispatched! Coalescing enabled: true\n", stdout);

        var over = new string('x', FleetFixture.UserEventSizeLimit);
        (code, stdout, stderr) = await PlatformCommand.RunAsync("event", "too-big", over, "--url", fleet.Url);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"user event 'too-big' is {FleetFixture.UserEventSizeLimit + 7} bytes (name + payload); the limit is {FleetFixture.UserEventSizeLimit} bytes", stderr);
        using var client = fleet.Client();
        Assert.Empty(await client.ListEventsAsync("too-big"));
    }

    [Fact]
    public async Task Event_prints_serfs_answer_and_is_in_the_history()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("event", "-coalesce=false", "cli-deploy", "v1", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal("Event 'cli-deploy' dispatched! Coalescing enabled: false\n", stdout);
        using var client = fleet.Client();
        var fired = Assert.Single(await client.ListEventsAsync("cli-deploy"));
        Assert.Equal("v1", System.Text.Encoding.UTF8.GetString(fired.Payload!));
        Assert.False(fired.Coalesce);
    }

    [Fact]
    public async Task Query_prints_each_agents_ack_and_response()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("query", "-tag", "role=(web|db)", "-timeout", "5s", "greet", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Query 'greet' dispatched", lines[0]);
        Assert.Equal(["Ack from 'db-1'", "Ack from 'web-1'", "Response from 'web-1': hello from web-1"], lines[1..^2].Order());
        Assert.Equal(["Total Acks: 2", "Total Responses: 1"], lines[^2..]);
    }

    [Fact]
    public async Task Query_json_with_a_node_filter_is_serfs_document()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("query", "-node", "web-1", "-format", "json", "-timeout", "5s", "greet", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal("""
            {
              "Acks": [
                "web-1"
              ],
              "Responses": {
                "web-1": "hello from web-1\n"
              }
            }

            """, stdout);
    }

    [Fact]
    public async Task Tags_set_with_platform_show_in_members_and_go_with_delete()
    {
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("tags", "-node", "db-1", "-set", "zone=b", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal("Successfully updated agent tags\n", stdout);
        using var client = fleet.Client();
        await FleetFixture.PollAsync(async () => (await client.GetNodeAsync("db-1")).Tags?.GetValueOrDefault("zone") == "b", "db-1 to have zone=b");
        (_, stdout, _) = await PlatformCommand.RunAsync("members", "-name", "db-1", "--url", fleet.Url);
        Assert.Equal($"db-1  127.0.0.1:{fleet.DbPort}  alive  role=db,zone=b\n", stdout);

        (code, _, stderr) = await PlatformCommand.RunAsync("tags", "-node", "db-1", "-delete", "zone", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        await FleetFixture.PollAsync(async () => (await client.GetNodeAsync("db-1")).Tags?.ContainsKey("zone") == false, "db-1 to lose zone");
    }

    [Fact]
    public async Task An_unreachable_first_silo_fails_over_to_the_next()
    {
        var refused = $"http://127.0.0.1:{SerfCluster.FreePort()}";
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("members", "-name", "web-1", "--url", refused, "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("web-1  ", stdout);
    }

    [Fact]
    public async Task Platform_url_lists_silos_to_fail_over_across()
    {
        var refused = $"http://127.0.0.1:{SerfCluster.FreePort()}";
        using var process = System.Diagnostics.Process.Start(PlatformCommand.StartInfo(["ready"], $"{refused},{fleet.Url}"))!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        Assert.Equal("ready\n", stdout);
    }

    [Fact]
    public async Task No_reachable_silo_exits_1_naming_each_url()
    {
        string a = $"http://127.0.0.1:{SerfCluster.FreePort()}", b = $"http://127.0.0.1:{SerfCluster.FreePort()}";
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("event", "deploy", "--url", a, "--url", b);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains($"Error connecting to silo: no silo answered; tried {a} (connection refused), {b} (connection refused)", stderr);
    }

    [Fact]
    public async Task An_error_from_the_silo_exits_1_with_its_message()
    {
        var before = await fleet.NodeStatesAsync();
        Assert.Contains("web-1 alive role=web", before);
        var (code, _, stderr) = await PlatformCommand.RunAsync("force-leave", "ghost-node", "--url", fleet.Url);
        Assert.Equal(1, code);
        Assert.StartsWith("Error force leaving: node 'ghost-node' is not known (HTTP 404 from ", stderr);
        (code, _, stderr) = await PlatformCommand.RunAsync("force-leave", "web-1", "--url", fleet.Url);
        Assert.Equal(1, code);
        Assert.StartsWith("Error force leaving: node 'web-1' is alive; force-leave only moves a failed node to left (HTTP 409 from ", stderr);
        (code, _, stderr) = await PlatformCommand.RunAsync("tags", "-node", "ghost-node", "-set", "role=web", "--url", fleet.Url);
        Assert.Equal(1, code);
        Assert.StartsWith("Error setting tags: node 'ghost-node' is not known (HTTP 404 from ", stderr);
        (code, _, stderr) = await PlatformCommand.RunAsync("leave", "-node", "ghost-node", "--url", fleet.Url);
        Assert.Equal(1, code);
        Assert.StartsWith("Error leaving: node 'ghost-node' is not known (HTTP 404 from ", stderr);

        // No node state is lost or changed by the refused commands, and none is made up.
        Assert.Equal(before, await fleet.NodeStatesAsync());
    }

    [Fact]
    public async Task A_usage_error_exits_2()
    {
        var before = await fleet.NodeStatesAsync();
        var (code, _, stderr) = await PlatformCommand.RunAsync("query", "-tag", "role", "greet", "--url", fleet.Url);
        Assert.Equal(2, code);
        Assert.Contains("tag filter 'role' is not valid; expected key=regexp", stderr);
        (code, _, stderr) = await PlatformCommand.RunAsync("tags", "-node", "web-1", "-set", "role", "--url", fleet.Url);
        Assert.Equal(2, code);
        Assert.Contains("-set 'role' is not valid; expected key=value", stderr);
        Assert.Equal(before, await fleet.NodeStatesAsync());
    }

    [Fact]
    public async Task Monitor_prints_events_as_they_happen_and_ends_on_ctrl_c()
    {
        await using var monitor = RunningProcess.Start(PlatformCommand.StartInfo(["monitor", "--url", fleet.Url]));
        using var client = fleet.Client();
        // The monitor subscribes after it starts; fire until one of the events shows.
        var seen = monitor.WaitForLineAsync(l => l.Contains("[INFO] agent: Received event: user-event: monitor-ping"), Wait);
        await FleetFixture.PollAsync(async () =>
        {
            if (seen.IsCompleted) return true;
            await client.FireEventAsync("monitor-ping", default);
            return await Task.WhenAny(seen, Task.Delay(200)) == seen;
        }, "the monitor to show a user event", 30);
        await seen;
        Assert.Equal(0, await monitor.InterruptAsync(Wait));
    }

    [Fact]
    public async Task Leave_makes_the_nodes_agent_leave()
    {
        var port = SerfCluster.FreePort();
        await using var agent = fleet.StartAgent("leaver-1", port);
        await fleet.WaitForAliveAsync("leaver-1");
        var (code, stdout, stderr) = await PlatformCommand.RunAsync("leave", "-node", "leaver-1", "--url", fleet.Url);
        Assert.True(code == 0, stderr);
        Assert.Equal("Graceful leave complete\n", stdout);
        using var client = fleet.Client();
        await FleetFixture.PollAsync(async () => (await client.GetNodeAsync("leaver-1")).Status == "left", "leaver-1 to be left");
    }

    [Fact]
    public async Task Ready_and_cluster_answer_from_the_silo()
    {
        var (code, stdout, _) = await PlatformCommand.RunAsync("ready", "--url", fleet.Url);
        Assert.Equal((0, "ready\n"), (code, stdout));
        (code, stdout, _) = await PlatformCommand.RunAsync("cluster", "-format", "json", "--url", fleet.Url);
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("Active", doc.RootElement.GetProperty("silos")[0].GetProperty("status").GetString());
        (code, stdout, _) = await PlatformCommand.RunAsync("cluster", "--url", fleet.Url);
        Assert.Equal(0, code);
        Assert.Contains("Active", stdout);
    }
}
