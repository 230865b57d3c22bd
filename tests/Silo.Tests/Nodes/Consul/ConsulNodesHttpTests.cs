using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Platform.Silo.Tests.Nodes.Api;

namespace Platform.Silo.Tests.Nodes.Consul;

/// <summary>Consul's node endpoints over plain HTTP: errors in Consul's words, and blocking queries.</summary>
[Collection(ConsulNodesCollection.Name)]
public sealed class ConsulNodesHttpTests(ConsulNodesFleet fleet)
{
    private HttpClient Http => fleet.Http;

    private static string IndexOf(HttpResponseMessage response) => response.Headers.GetValues("X-Consul-Index").Single();

    [Fact]
    public async Task Health_state_that_is_not_a_check_state_is_refused_as_Consul_does()
    {
        using var response = await Http.GetAsync("/v1/health/state/ok");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid check state", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_of_an_unknown_node_is_an_empty_list()
    {
        using var response = await Http.GetAsync("/v1/health/node/nobody-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Firing_an_event_without_a_name_is_refused_as_Consul_does()
    {
        using var response = await Http.PutAsync("/v1/event/fire/", new StringContent("x"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Missing name", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Firing_an_event_over_the_size_limit_is_refused_naming_the_limit()
    {
        using var response = await Http.PutAsync("/v1/event/fire/big", new ByteArrayContent(new byte[600]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the limit is 512 bytes", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Service_filter_is_refused_because_there_are_no_services()
    {
        using var response = await Http.PutAsync("/v1/event/fire/deploy?service=web", new StringContent(""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("service filter \"web\" cannot match", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Event_list_with_its_current_index_waits_for_the_whole_wait_and_answers_the_same_index()
    {
        var name = "quiet-" + Guid.NewGuid().ToString("N")[..8];
        using var first = await Http.GetAsync($"/v1/event/list?name={name}");
        Assert.Equal("1", IndexOf(first));

        var clock = Stopwatch.StartNew();
        using var blocked = await Http.GetAsync($"/v1/event/list?name={name}&index=1&wait=1s");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(980), $"answered after {clock.Elapsed}");
        Assert.Equal("1", IndexOf(blocked));
        Assert.Equal("[]", await blocked.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Event_list_index_is_Consul_hash_of_the_last_event_id()
    {
        var name = "hashed-" + Guid.NewGuid().ToString("N")[..8];
        await fleet.FireAsync(name, "one");
        var last = await fleet.FireAsync(name, "two");
        using var response = await Http.GetAsync($"/v1/event/list?name={name}");
        var events = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, events.GetArrayLength());
        Assert.Equal(Guid.Parse(last).ToString("D"), events[1].GetProperty("ID").GetString());
        var hex = Guid.Parse(last).ToString("N");
        var expected = Convert.ToUInt64(hex[..16], 16) ^ Convert.ToUInt64(hex[16..], 16);
        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), IndexOf(response));
    }

    [Fact]
    public async Task Catalog_blocking_query_wakes_when_a_node_joins()
    {
        using var before = await Http.GetAsync("/v1/catalog/nodes");
        var index = IndexOf(before);
        var blocked = Http.GetAsync($"/v1/catalog/nodes?index={index}&wait=30s");

        var name = "late-" + Guid.NewGuid().ToString("N")[..6];
        await fleet.Connect(RawAgent.NewHello(name));

        using var after = await blocked.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotEqual(index, IndexOf(after));
        var nodes = JsonDocument.Parse(await after.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(n => n.GetProperty("Node").GetString());
        Assert.Contains(name, nodes);
    }

    [Fact]
    public async Task Health_blocking_query_wakes_when_a_check_changes_and_the_monitor_carries_the_change()
    {
        var name = "checked-" + Guid.NewGuid().ToString("N")[..6];
        var agent = await fleet.Connect(RawAgent.NewHello(name) with { Checks = [new("app", "App", "passing", "ok")] });
        using var before = await Http.GetAsync($"/v1/health/node/{name}");
        var index = IndexOf(before);
        using var monitor = await Http.GetAsync("/v1/monitor", HttpCompletionOption.ResponseHeadersRead);
        using var lines = new StreamReader(await monitor.Content.ReadAsStreamAsync());
        // Waits far longer than the test allows: only a wake by the change can answer in time.
        var blocked = Http.GetAsync($"/v1/health/node/{name}?index={index}&wait=5m");

        await agent.SendAsync(new Platform.Protocol.CheckFrame(new Platform.Protocol.CheckState("app", "App", "critical", "down")));

        using var after = await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(index, IndexOf(after));
        var app = JsonDocument.Parse(await after.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Single(c => c.GetProperty("CheckID").GetString() == "app");
        Assert.Equal(("critical", "down"), (app.GetProperty("Status").GetString(), app.GetProperty("Output").GetString()));
        while (await lines.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) is { } line)
        {
            var e = JsonDocument.Parse(line).RootElement;
            if (e.GetProperty("type").GetString() != "check" || e.GetProperty("node").GetString() != name) continue;
            Assert.Equal(("app", "critical", "down"), (e.GetProperty("check").GetProperty("id").GetString(), e.GetProperty("check").GetProperty("status").GetString(), e.GetProperty("check").GetProperty("output").GetString()));
            return;
        }
        Assert.Fail("the monitor ended before the check line");
    }

    [Fact]
    public async Task Bad_index_is_refused_naming_the_parameter()
    {
        using var response = await Http.GetAsync("/v1/agent/members?index=abc");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Invalid index: \"abc\"", await response.Content.ReadAsStringAsync());
    }
}
