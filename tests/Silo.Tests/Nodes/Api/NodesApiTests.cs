using System.Diagnostics;
using System.Net.WebSockets;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Protocol;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>Nodes, agents, events and queries against a real silo process, spoken to over the real agent protocol.</summary>
public sealed class NodesApiTests(NodesSilo silo, ITestOutputHelper output) : IClassFixture<NodesSilo>
{
    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private Task<RawAgent> Connect(HelloFrame hello, bool answerQueries = false) => RawAgent.ConnectAsync(silo.Port, hello, answerQueries);

    [Fact]
    public async Task Agent_that_joins_is_listed_alive()
    {
        var name = Unique("web");
        await using var agent = await Connect(RawAgent.NewHello(name, new() { ["role"] = "web" }));
        Assert.NotNull(agent.Welcome);
        Assert.Equal("alive", agent.Welcome!.Self.Status);
        Assert.Equal(400, agent.Welcome.HeartbeatIntervalMs);
        Assert.Equal(1200, agent.Welcome.HeartbeatTimeoutMs);

        var listed = JsonDocument.Parse(await silo.Http.GetStringAsync($"/v1/nodes?name={name}")).RootElement;
        var node = Assert.Single(listed.EnumerateArray());
        Assert.Equal("alive", node.GetProperty("status").GetString());
        Assert.Equal("web", node.GetProperty("tags").GetProperty("role").GetString());
        var detail = (await NodesHttp.NodeAsync(silo.Http, name))!.Value;
        Assert.Equal("127.0.0.1", detail.GetProperty("addr").GetString());
        Assert.Equal(7946, detail.GetProperty("port").GetInt32());
    }

    [Fact]
    public async Task Second_agent_with_the_same_name_is_refused_and_the_first_stays_alive()
    {
        var name = Unique("dup");
        await using var first = await Connect(RawAgent.NewHello(name));
        await using var second = await Connect(RawAgent.NewHello(name));

        Assert.Null(second.Welcome);
        Assert.Contains($"node name '{name}' is already alive at 127.0.0.1:7946", second.Refused!.Error);
        await second.Closed;
        Assert.Equal((WebSocketCloseStatus)AgentProtocol.RefusedCloseStatus, second.CloseStatus);

        Assert.Equal("alive", await NodesHttp.StatusAsync(silo.Http, name));
        // Its pings are still answered (the silo answers one after each quiet spell of PongAfter).
        var answered = first.All<PongFrame>().Select(p => p.Seq).DefaultIfEmpty(0).Max();
        await first.WaitForAsync<PongFrame>(p => p.Seq > answered);
    }

    [Fact]
    public async Task Pings_are_answered_only_after_the_silo_has_sent_the_agent_nothing_for_pong_after()
    {
        await using var agent = await Connect(RawAgent.NewHello(Unique("quiet")) with { MemberEvents = false });
        var pongAfter = agent.Welcome!.PongAfterMs;
        Assert.Equal(500, pongAfter);
        agent.StopPinging();

        // A ping every 50 ms, ten times as often as a pong may go; at least 40 of them, until one after the 40th is answered
        // (then the silo has handled every ping before it, in order).
        const long first = 1_000_000;
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (!(sent >= 40 && agent.Find<PongFrame>(p => p.Seq >= first + 40) is not null))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"no pong after ping {first + 40} within 20 s; received: {agent.Describe()}");
            await agent.SendAsync(new PingFrame(first + sent++));
            await Task.Delay(50);
        }
        var elapsed = clock.Elapsed.TotalMilliseconds;
        var answered = agent.All<PongFrame>(p => p.Seq >= first).Count;
        output.WriteLine($"{answered} of {sent} pings answered in {elapsed:0} ms");

        // Every answer came at least PongAfter after the silo's previous frame, all of them between the first ping sent
        // and the last pong read (less 10 ms for the coarse clock the silo reads).
        Assert.InRange(answered, 1, (int)(elapsed / (pongAfter - 10)) + 1);
    }

    [Fact]
    public async Task Agent_whose_connection_is_aborted_is_failed_at_once()
    {
        var name = Unique("abort");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var agent = await Connect(RawAgent.NewHello(name));
        agent.Abort();
        var took = await NodesHttp.WaitForStatusAsync(silo.Http, name, "failed", TimeSpan.FromSeconds(5));
        output.WriteLine($"failed {took.TotalMilliseconds:0} ms after the abort");
        // Well under the heartbeat timeout: the reset itself is the failure.
        Assert.True(took < TimeSpan.FromMilliseconds(1000), $"took {took.TotalMilliseconds:0} ms");
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-failed" && m.Member.Name == name);
    }

    [Fact]
    public async Task Agent_that_stops_pinging_is_failed_within_two_seconds()
    {
        var name = Unique("stopped");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var agent = await Connect(RawAgent.NewHello(name));
        var clock = Stopwatch.StartNew();
        agent.StopPinging();
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "failed", TimeSpan.FromSeconds(5));
        var took = clock.Elapsed;
        output.WriteLine($"failed {took.TotalMilliseconds:0} ms after the last ping stopped");
        Assert.True(took < TimeSpan.FromSeconds(2), $"took {took.TotalMilliseconds:0} ms");
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-failed" && m.Member.Name == name);
    }

    [Fact]
    public async Task Graceful_leave_goes_leaving_then_left_and_never_failed()
    {
        var name = Unique("leaver");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var agent = await Connect(RawAgent.NewHello(name));
        await agent.SendAsync(new LeaveFrame());
        await agent.Closed;
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "left", TimeSpan.FromSeconds(5));
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-leave" && m.Member.Name == name);
        Assert.Empty(watcher.All<MemberEventFrame>(m => m.Event == "member-failed" && m.Member.Name == name));
    }

    [Fact]
    public async Task User_event_reaches_every_connected_agent_once_with_increasing_ltime()
    {
        var agents = new List<RawAgent>();
        try
        {
            for (var i = 0; i < 3; i++) agents.Add(await Connect(RawAgent.NewHello(Unique("ev"))));
            var name = Unique("deploy");
            var ltimes = new List<ulong>();
            for (var i = 0; i < 3; i++) ltimes.Add(await NodesHttp.FireAsync(silo.Http, name, $"v{i}"));
            Assert.True(ltimes[0] < ltimes[1] && ltimes[1] < ltimes[2], string.Join(",", ltimes));
            // A last event fired after the others: once it is in, every earlier one is too (delivery is in order).
            var sentinel = Unique("sentinel");
            var last = await NodesHttp.FireAsync(silo.Http, sentinel, "");
            foreach (var agent in agents)
            {
                await agent.WaitForAsync<UserEventFrame>(e => e.LTime == last);
                var got = agent.All<UserEventFrame>(e => e.Name == name);
                Assert.Equal(ltimes, got.Select(e => e.LTime).ToList());
                Assert.Equal(["v0", "v1", "v2"], got.Select(e => System.Text.Encoding.UTF8.GetString(e.Payload)).ToList());
            }
        }
        finally
        {
            foreach (var agent in agents) await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task Agent_that_asks_for_no_member_events_gets_no_member_list_nor_member_events_but_every_user_event()
    {
        await using var full = await Connect(RawAgent.NewHello(Unique("full")));
        await using var quiet = await Connect(RawAgent.NewHello(Unique("quiet")) with { MemberEvents = false });
        Assert.Empty(quiet.Welcome!.Members);
        Assert.Contains(full.Welcome!.Members, m => m.Name == full.Name);

        await using var joiner = await Connect(RawAgent.NewHello(Unique("joiner")));
        await full.WaitForAsync<AgentFrame>(f => f is MemberEventFrame m && m.Member.Name == joiner.Name
            || f is MembersFrame b && b.Events.Any(e => e.Member.Name == joiner.Name));
        // Fleet events reach a connection in order: once the event fired after the join is in, a member event for the
        // join would have come before it.
        var ltime = await NodesHttp.FireAsync(silo.Http, Unique("after-join"), "x");
        await quiet.WaitForAsync<UserEventFrame>(e => e.LTime == ltime);
        Assert.Empty(quiet.All<MemberEventFrame>());
        Assert.Empty(quiet.All<MembersFrame>());
        Assert.Equal("alive", await NodesHttp.StatusAsync(silo.Http, quiet.Name));
    }

    [Fact]
    public async Task Agent_that_reconnects_with_last_event_ltime_gets_only_the_missed_events_once()
    {
        var node = Unique("rejoin");
        var agentId = Guid.NewGuid().ToString("N");
        var name = Unique("evt");
        ulong seen;
        await using (var agent = await Connect(RawAgent.NewHello(node, agentId: agentId)))
        {
            seen = await NodesHttp.FireAsync(silo.Http, name, "seen");
            await agent.WaitForAsync<UserEventFrame>(e => e.LTime == seen);
        }
        await NodesHttp.WaitForStatusAsync(silo.Http, node, "failed", TimeSpan.FromSeconds(5));
        var missed1 = await NodesHttp.FireAsync(silo.Http, name, "missed-1");
        var missed2 = await NodesHttp.FireAsync(silo.Http, name, "missed-2");

        await using var again = await Connect(RawAgent.NewHello(node, agentId: agentId, lastEventLTime: seen));
        Assert.NotNull(again.Welcome);
        var live = await NodesHttp.FireAsync(silo.Http, name, "live");
        await again.WaitForAsync<UserEventFrame>(e => e.LTime == live);
        var got = again.All<UserEventFrame>(e => e.Name == name).Select(e => e.LTime).ToList();
        Assert.Equal([missed1, missed2, live], got);
    }

    [Fact]
    public async Task New_agent_that_reconnects_before_handling_any_event_gets_what_was_fired_meanwhile_and_nothing_older()
    {
        var node = Unique("fresh");
        var agentId = Guid.NewGuid().ToString("N");
        var name = Unique("evt");
        var before = await NodesHttp.FireAsync(silo.Http, name, "before-join");
        await using (var agent = await Connect(RawAgent.NewHello(node, agentId: agentId)))
            Assert.NotNull(agent.Welcome);
        await NodesHttp.WaitForStatusAsync(silo.Http, node, "failed", TimeSpan.FromSeconds(5));
        var missed = await NodesHttp.FireAsync(silo.Http, name, "while-away");

        // Still no event handled: the agent's hello says 0 again.
        await using var again = await Connect(RawAgent.NewHello(node, agentId: agentId));
        var live = await NodesHttp.FireAsync(silo.Http, name, "live");
        await again.WaitForAsync<UserEventFrame>(e => e.LTime == live);
        var got = again.All<UserEventFrame>(e => e.Name == name).Select(e => e.LTime).ToList();
        Assert.Equal([missed, live], got);
        Assert.DoesNotContain(before, got);
    }

    [Fact]
    public async Task Tags_changed_through_the_api_are_a_member_update_to_the_others_and_a_tags_frame_to_the_node()
    {
        var name = Unique("tagged");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var agent = await Connect(RawAgent.NewHello(name, new() { ["role"] = "web", ["old"] = "1" }));
        using var put = await NodesHttp.PutTagsAsync(silo.Http, name, new { set = new Dictionary<string, string> { ["role"] = "db" }, delete = new[] { "old" } });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var update = await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-update" && m.Member.Name == name);
        Assert.Equal(new Dictionary<string, string> { ["role"] = "db" }, update.Member.Tags);
        var pushed = await agent.WaitForAsync<TagsFrame>(_ => true);
        Assert.Equal(new Dictionary<string, string> { ["role"] = "db" }, pushed.Tags);
        var detail = (await NodesHttp.NodeAsync(silo.Http, name))!.Value;
        Assert.Equal("db", detail.GetProperty("tags").GetProperty("role").GetString());
        Assert.False(detail.GetProperty("tags").TryGetProperty("old", out _));
    }

    [Fact]
    public async Task Tags_changed_by_the_agent_are_a_member_update_to_the_others()
    {
        var name = Unique("selftag");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var agent = await Connect(RawAgent.NewHello(name, new() { ["role"] = "web" }));
        await agent.SendAsync(new TagsFrame(new Dictionary<string, string> { ["role"] = "cache" }));
        var update = await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-update" && m.Member.Name == name);
        Assert.Equal("cache", update.Member.Tags["role"]);
    }

    private static async Task<List<JsonElement>> QueryAsync(HttpClient http, string url)
    {
        using var r = await http.PostAsync(url, new StringContent("payload"));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        Assert.Equal("application/x-ndjson", r.Content.Headers.ContentType?.MediaType);
        return [.. body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    [Fact]
    public async Task Query_reaches_only_matching_agents_and_streams_their_acks_and_responses()
    {
        var role = Unique("role");
        var web1 = Unique("web1");
        var web2 = Unique("web2");
        var db = Unique("db");
        await using var a = await Connect(RawAgent.NewHello(web1, new() { ["role"] = role + "-web" }), answerQueries: true);
        await using var b = await Connect(RawAgent.NewHello(web2, new() { ["role"] = role + "-web" }), answerQueries: true);
        await using var c = await Connect(RawAgent.NewHello(db, new() { ["role"] = role + "-db" }), answerQueries: true);

        var clock = Stopwatch.StartNew();
        var lines = await QueryAsync(silo.Http, $"/v1/queries/uptime?tag=role={role}-w.b&timeout=10s");
        output.WriteLine($"query answered in {clock.ElapsedMilliseconds} ms: {string.Join(" ", lines)}");
        // Every reached node answered, so the answer ends long before its 10 s timeout.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.ElapsedMilliseconds} ms");
        var acks = lines.Where(l => l.GetProperty("type").GetString() == "ack").Select(l => l.GetProperty("from").GetString()!).Order().ToList();
        var responses = lines.Where(l => l.GetProperty("type").GetString() == "response").ToList();
        Assert.Equal(new[] { web1, web2 }.Order().ToList(), acks);
        Assert.Equal(new[] { web1, web2 }.Order().ToList(), responses.Select(l => l.GetProperty("from").GetString()!).Order().ToList());
        foreach (var response in responses)
            Assert.Equal(response.GetProperty("from").GetString(), System.Text.Encoding.UTF8.GetString(response.GetProperty("payload").GetBytesFromBase64()));
        var done = lines[^1];
        Assert.Equal("done", done.GetProperty("type").GetString());
        Assert.Equal(2, done.GetProperty("acks").GetInt32());
        Assert.Equal(2, done.GetProperty("responses").GetInt32());
        Assert.Empty(c.All<QueryFrame>());

        var byName = await QueryAsync(silo.Http, $"/v1/queries/uptime?node={web2}&ack=false&timeout=10s");
        Assert.Equal([("response", web2)], byName.Where(l => l.GetProperty("type").GetString() != "done")
            .Select(l => (l.GetProperty("type").GetString(), l.GetProperty("from").GetString())).ToList());
        Assert.Equal(1, byName[^1].GetProperty("responses").GetInt32());
    }

    [Fact]
    public async Task Query_that_matches_no_node_answers_an_empty_result()
    {
        var lines = await QueryAsync(silo.Http, $"/v1/queries/uptime?node={Unique("nobody")}");
        var done = Assert.Single(lines);
        Assert.Equal("done", done.GetProperty("type").GetString());
        Assert.Equal(0, done.GetProperty("acks").GetInt32());
        Assert.Equal(0, done.GetProperty("responses").GetInt32());
    }

    [Fact]
    public async Task Monitor_streams_member_and_user_events()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/monitor");
        using var response = await silo.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var name = Unique("mon");
        await using var agent = await Connect(RawAgent.NewHello(name));
        var eventName = Unique("monitored");
        await NodesHttp.FireAsync(silo.Http, eventName, "x");
        var sawJoin = false;
        var seen = new List<string>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var line = await reader.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException("monitor stream ended");
            seen.Add(line);
            var e = JsonDocument.Parse(line).RootElement;
            if (e.GetProperty("type").GetString() == "member" && e.GetProperty("event").GetString() == "member-join" && e.GetProperty("member").GetProperty("name").GetString() == name) sawJoin = true;
            if (e.GetProperty("type").GetString() == "user" && e.GetProperty("name").GetString() == eventName) break;
        }
        Assert.True(sawJoin, string.Join("\n", seen));
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_4xx()
    {
        // Nodes of every kind whose state the refused requests must leave as it was: alive with tags, failed, left.
        var tagged = Unique("kept");
        await using var watcher = await Connect(RawAgent.NewHello(Unique("watcher")));
        await using var alive = await Connect(RawAgent.NewHello(tagged, new() { ["role"] = "web", ["dc"] = "east" }));
        var failedName = Unique("kept-failed");
        await using (var failed = await Connect(RawAgent.NewHello(failedName, new() { ["role"] = "db" })))
        {
            failed.Abort();
            await NodesHttp.WaitForStatusAsync(silo.Http, failedName, "failed", TimeSpan.FromSeconds(5));
        }
        var leftName = Unique("kept-left");
        await using (var left = await Connect(RawAgent.NewHello(leftName)))
        {
            await left.SendAsync(new LeaveFrame());
            await left.Closed;
            await NodesHttp.WaitForStatusAsync(silo.Http, leftName, "left", TimeSpan.FromSeconds(5));
        }
        string[] kept = [tagged, failedName, leftName];
        var before = await NodeStatesAsync(kept);
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-failed" && m.Member.Name == failedName);
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-leave" && m.Member.Name == leftName);
        var seenBefore = watcher.All<MemberEventFrame>().Count;

        using (var r = await silo.Http.PostAsync("/v1/queries/uptime?tag=role=%5Bweb", new StringContent("")))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(400, status);
            Assert.Contains("tag filter 'role=[web' is not a valid regular expression", error);
        }
        using (var r = await silo.Http.PostAsync("/v1/events/big", new StringContent(new string('x', 600))))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(400, status);
            Assert.Contains("the limit is 512 bytes", error);
        }
        using (var r = await silo.Http.PostAsync("/v1/events/_reserved", new StringContent("")))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(400, status);
            Assert.Contains("'_reserved' starts with '_'", error);
        }
        using (var r = await silo.Http.PostAsync($"/v1/nodes/{Unique("ghost")}/force-leave", null))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(404, status);
            Assert.Contains("is not known", error);
        }
        using (var r = await silo.Http.GetAsync("/v1/nodes?status=sleeping"))
            Assert.Equal(400, (await NodesHttp.ErrorAsync(r)).Status);
        using (var r = await silo.Http.GetAsync("/v1/nodes?name=%28"))
            Assert.Contains("name filter '(' is not a valid regular expression", (await NodesHttp.ErrorAsync(r)).Error);
        using (var r = await silo.Http.GetAsync(AgentProtocol.ConnectPath))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(400, status);
            Assert.Contains(AgentProtocol.SubProtocol, error);
        }
        using (var r = await NodesHttp.PutTagsAsync(silo.Http, tagged, new { set = new Dictionary<string, string> { [""] = "x" }, delete = new[] { "role" } }))
        {
            var (status, error) = await NodesHttp.ErrorAsync(r);
            Assert.Equal(400, status);
            Assert.Contains("a tag name is empty", error);
        }
        using (var r = await NodesHttp.PutTagsAsync(silo.Http, Unique("ghost"), new { set = new Dictionary<string, string> { ["role"] = "web" } }))
            Assert.Equal(404, (await NodesHttp.ErrorAsync(r)).Status);
        using (var r = await silo.Http.PostAsync($"/v1/nodes/{tagged}/force-leave", null))
            Assert.Equal(409, (await NodesHttp.ErrorAsync(r)).Status);
        using (var r = await silo.Http.PostAsync($"/v1/nodes/{failedName}/leave", null))
            Assert.Equal(409, (await NodesHttp.ErrorAsync(r)).Status);

        // No node state is lost or changed: statuses, tags and incarnations as before, and no member event for them.
        Assert.Equal(before, await NodeStatesAsync(kept));
        await using var probe = await Connect(RawAgent.NewHello(Unique("probe")));
        await watcher.WaitForAsync<MemberEventFrame>(m => m.Event == "member-join" && m.Member.Name == probe.Name);
        // Member events reach the watcher in order: once the probe's join is in, any event the refused requests made is too.
        Assert.Equal(seenBefore + 1, watcher.All<MemberEventFrame>().Count);
    }

    /// <summary>Each node's status, tags and incarnation, one line each.</summary>
    private async Task<string> NodeStatesAsync(IEnumerable<string> names)
    {
        var lines = new List<string>();
        foreach (var name in names)
        {
            var node = await NodesHttp.NodeAsync(silo.Http, name) ?? throw new InvalidOperationException($"node {name} is gone");
            var tags = node.GetProperty("tags").EnumerateObject().OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => $"{t.Name}={t.Value.GetString()}");
            lines.Add($"{name} {node.GetProperty("status").GetString()} {node.GetProperty("incarnation")} {string.Join(',', tags)}");
        }
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task WebSocket_without_the_agent_subprotocol_is_refused_with_400()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("something-else");
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{silo.Port}{AgentProtocol.ConnectPath}"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Force_leave_moves_a_failed_node_to_left_and_refuses_an_alive_one()
    {
        var name = Unique("forced");
        await using var agent = await Connect(RawAgent.NewHello(name));
        using (var alive = await silo.Http.PostAsync($"/v1/nodes/{name}/force-leave", null))
            Assert.Equal(409, (await NodesHttp.ErrorAsync(alive)).Status);
        agent.Abort();
        await NodesHttp.WaitForStatusAsync(silo.Http, name, "failed", TimeSpan.FromSeconds(5));
        using var forced = await silo.Http.PostAsync($"/v1/nodes/{name}/force-leave", null);
        Assert.True(forced.IsSuccessStatusCode, await forced.Content.ReadAsStringAsync());
        Assert.Equal("left", await NodesHttp.StatusAsync(silo.Http, name));

        // The node's membership changes are kept with it, newest first.
        var changes = await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/nodes/{name}/member-events");
        Assert.Equal([("member-leave", "left"), ("member-failed", "failed"), ("member-join", "alive")],
            changes.EnumerateArray().Select(c => (c.GetProperty("event").GetString(), c.GetProperty("status").GetString())));
        Assert.All(changes.EnumerateArray(), c => Assert.True(c.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1)));
        using var unknown = await silo.Http.GetAsync($"/v1/nodes/{Unique("nobody")}/member-events");
        Assert.Equal(404, (await NodesHttp.ErrorAsync(unknown)).Status);
    }

    [Fact]
    public async Task Leave_through_the_api_makes_the_agent_leave()
    {
        var name = Unique("asked");
        await using var agent = await Connect(RawAgent.NewHello(name));
        using var r = await silo.Http.PostAsync($"/v1/nodes/{name}/leave", null);
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        await agent.WaitForAsync<LeaveFrame>(_ => true);
    }
}
