using System.Collections.Concurrent;
using System.Text;
using Platform.Agent.Configuration;
using Platform.Agent.Handlers;
using Platform.Agent.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests;

public sealed class NodeAgentTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AgentSettings Settings(FakeSilo silo, params string[] handlers) => new()
    {
        NodeName = "web-1",
        Tags = new Dictionary<string, string> { ["role"] = "web" },
        Handlers = handlers.SelectMany(EventScript.Parse).ToList(),
        Address = "10.0.0.7",
        Servers = [silo.Url],
        DataDir = Path.Combine(_dir.Path, "data"),
        CoalescePeriod = TimeSpan.Zero,
        UserCoalescePeriod = TimeSpan.Zero,
    };

    private static MemberInfo M(string name, string addr) => new(name, addr, 7946, new Dictionary<string, string> { ["role"] = "db" }, "alive", 5);

    [Fact]
    public async Task First_welcome_runs_member_join_once_for_every_alive_member_after_the_quiet_period()
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.HeartbeatIntervalMs = 60_000;
        silo.Members.Add(M("db-1", "10.0.0.2"));
        silo.Members.Add(new MemberInfo("old", "10.0.0.3", 7946, new Dictionary<string, string>(), "failed", 5));
        var time = new ManualTimeProvider();
        var log = _dir.File("joins.log");
        var settings = Settings(silo, $"member-join=echo \"$SERF_EVENT\" >> {log}; cat >> {log}") with
        {
            CoalescePeriod = TimeSpan.FromSeconds(3),
            QuiescentPeriod = TimeSpan.FromSeconds(1),
        };
        await using var agent = new NodeAgent(settings, timeProvider: time);
        var runs = new ConcurrentQueue<HandlerResult>();
        agent.HandlerCompleted += runs.Enqueue;
        await agent.StartAsync();
        await Eventually.True(() => agent.Members.Count == 3, "the welcome's members");

        time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(() => runs.Count == 1, "one member-join run");
        Assert.Equal("member-join\ndb-1\t10.0.0.2\tdb\trole=db\nweb-1\t10.0.0.7\tweb\trole=web\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task A_user_event_runs_its_handler_and_is_reported_applied_after_it_is_on_disk()
    {
        await using var silo = await FakeSilo.StartAsync();
        var log = _dir.File("deploy.log");
        await using var agent = new NodeAgent(Settings(silo, $"user:deploy=echo \"$SERF_USER_LTIME $(cat)\" >> {log}"));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        await silo.SendAsync(new UserEventFrame("e5", "deploy", Encoding.UTF8.GetBytes("v1.2"), 5, false));

        // Carried by the next ping, one frame per interval however many events were handled.
        await Eventually.True(() => silo.ReceivedOf<PingFrame>().Any(p => p.Applied == 5), "a ping carrying applied 5");
        Assert.Equal("5 v1.2\n", File.ReadAllText(log));
        Assert.Equal("5\n", File.ReadAllText(Path.Combine(_dir.Path, "data", "last-event-ltime")));
        Assert.Equal(5UL, agent.LastAppliedLTime);
    }

    [Fact]
    public async Task A_restarted_agent_reports_its_mark_and_does_not_replay_events_it_handled()
    {
        await using var silo = await FakeSilo.StartAsync();
        var log = _dir.File("runs.log");
        var settings = Settings(silo, $"user=echo $SERF_USER_LTIME >> {log}");
        await using (var first = new NodeAgent(settings))
        {
            await first.StartAsync();
            await Eventually.True(() => silo.IsConnected, "a connection");
            await silo.SendAsync(new UserEventFrame("e5", "deploy", [], 5, false));
            await Eventually.True(() => first.LastAppliedLTime == 5, "applied 5");
            await first.StopAsync(leave: false);
        }

        await using var second = new NodeAgent(settings);
        Assert.NotEqual(second.AgentId, silo.Hellos[0].AgentId);
        await second.StartAsync();
        await Eventually.True(() => silo.Hellos.Count == 2 && silo.IsConnected, "the second agent's connection");
        Assert.Equal(5UL, silo.Hellos[1].LastEventLTime);

        await silo.SendAsync(new UserEventFrame("e5", "deploy", [], 5, false));
        await silo.SendAsync(new UserEventFrame("e6", "deploy", [], 6, false));
        await Eventually.True(() => second.LastAppliedLTime == 6, "applied 6");

        Assert.Equal("5\n6\n", File.ReadAllText(log));
    }

    [Theory]
    [InlineData(false, new[] { "user:deploy=deploy.sh", "query=answer.sh" })]
    [InlineData(false, new string[0])]
    [InlineData(true, new[] { "user:deploy=deploy.sh", "member-failed=page.sh" })]
    [InlineData(true, new[] { "handler.sh" })]
    public async Task The_hello_asks_for_member_events_only_when_a_handler_takes_them(bool expected, string[] handlers)
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo, handlers));
        await agent.StartAsync();
        await Eventually.True(() => silo.Hellos.Count > 0, "a hello");
        Assert.Equal(expected, silo.Hellos[0].MemberEvents);
        Assert.Equal(expected, agent.TakesMemberEvents);
    }

    [Fact]
    public async Task A_brand_new_agent_says_it_has_applied_nothing_and_keeps_a_mark_from_its_first_welcome()
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        Assert.Equal(0UL, silo.Hellos[0].LastEventLTime);
        await Eventually.True(() => File.Exists(Path.Combine(_dir.Path, "data", "last-event-ltime")), "the mark file");
    }

    [Fact]
    public async Task Coalescing_user_events_run_the_handler_once_with_the_latest_and_apply_them_all()
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.HeartbeatIntervalMs = 60_000;
        var time = new ManualTimeProvider();
        var log = _dir.File("deploys.log");
        var settings = Settings(silo, $"user:deploy=echo \"$SERF_USER_LTIME $(cat)\" >> {log}") with
        {
            UserCoalescePeriod = TimeSpan.FromSeconds(3),
            UserQuiescentPeriod = TimeSpan.FromSeconds(1),
        };
        await using var agent = new NodeAgent(settings, timeProvider: time);
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        for (ulong i = 1; i <= 3; i++) await silo.SendAsync(new UserEventFrame("e" + i, "deploy", Encoding.UTF8.GetBytes("v" + i), i, true));
        await silo.SendAsync(new UserEventFrame("e4", "restart", [], 4, false));
        // 1 and 2 are coalesced away and 4 (not coalescing, no handler) is done: the mark stops below 3, still held.
        await Eventually.True(() => agent.LastAppliedLTime == 2, "applied 2 while 3 is held");
        Assert.False(File.Exists(log) && File.ReadAllText(log).Length > 0);
        time.Advance(TimeSpan.FromSeconds(1));

        await Eventually.True(() => agent.LastAppliedLTime == 4, "applied 4");
        Assert.Equal("3 v3\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task Queries_are_acked_at_once_and_answered_only_by_a_handler_that_exits_0_with_output_within_the_limit()
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo,
            "query:fail=echo broken; exit 1",
            "query:silent=true",
            "query:big=head -c 2000 /dev/zero",
            "query:load=echo \"load of $SERF_SELF_NAME: $(cat)\""));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        await silo.SendAsync(new QueryFrame("q1", "fail", [], 1, true, 5000));
        await silo.SendAsync(new QueryFrame("q2", "silent", [], 2, true, 5000));
        await silo.SendAsync(new QueryFrame("q3", "big", [], 3, true, 5000));
        await silo.SendAsync(new QueryFrame("q4", "load", Encoding.UTF8.GetBytes("now"), 4, false, 5000));
        await Eventually.True(() => silo.ReceivedOf<QueryResponseFrame>().Any(), "a query response");

        // Queries run one at a time in order, so q1..q3 were decided before q4 answered.
        var response = Assert.Single(silo.ReceivedOf<QueryResponseFrame>());
        Assert.Equal("q4", response.QueryId);
        Assert.Equal("load of web-1: now\n", Encoding.UTF8.GetString(response.Payload));
        Assert.Equal(["q1", "q2", "q3"], silo.ReceivedOf<QueryAckFrame>().Select(a => a.QueryId));
    }

    [Fact]
    public async Task A_user_event_filtered_to_other_nodes_runs_nothing_but_counts_as_applied()
    {
        await using var silo = await FakeSilo.StartAsync();
        var log = _dir.File("filtered.log");
        await using var agent = new NodeAgent(Settings(silo, $"user=echo $SERF_USER_LTIME >> {log}"));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        await silo.SendAsync(new UserEventFrame("e1", "deploy", [], 1, false, NodeFilter: "^db-"));
        await silo.SendAsync(new UserEventFrame("e2", "deploy", [], 2, false, TagFilter: "role=^db$"));
        await silo.SendAsync(new UserEventFrame("e3", "deploy", [], 3, false, NodeFilter: "^web-", TagFilter: "role=web"));
        await Eventually.True(() => agent.LastAppliedLTime == 3, "applied 3");

        Assert.Equal("3\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task Tags_from_the_silo_are_adopted_written_to_the_tags_file_and_seen_by_handlers()
    {
        await using var silo = await FakeSilo.StartAsync();
        var tagsFile = Path.Combine(_dir.Path, "tags.json");
        var log = _dir.File("tags.log");
        await using var agent = new NodeAgent(Settings(silo, $"user=echo \"$SERF_SELF_ROLE $SERF_TAG_RACK\" >> {log}") with { TagsFile = tagsFile });
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        await silo.SendAsync(new TagsFrame(new Dictionary<string, string> { ["role"] = "db", ["rack"] = "r7" }));
        await silo.SendAsync(new UserEventFrame("e1", "x", [], 1, false));
        await Eventually.True(() => agent.LastAppliedLTime == 1, "applied 1");

        Assert.Equal("db r7\n", File.ReadAllText(log));
        Assert.Equal(new Dictionary<string, string> { ["role"] = "db", ["rack"] = "r7" }, TagsFile.Read(tagsFile));
    }

    [Fact]
    public async Task The_silos_leave_makes_the_agent_leave_gracefully()
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo));
        await agent.StartAsync();
        await Eventually.True(() => silo.IsConnected, "a connection");

        await silo.SendAsync(new LeaveFrame());

        await agent.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(silo.ReceivedOf<LeaveFrame>());
    }

    [Fact]
    public async Task A_reconnect_to_another_silo_fires_only_the_member_differences()
    {
        await using var first = await FakeSilo.StartAsync("silo-1");
        await using var second = await FakeSilo.StartAsync("silo-2");
        first.Members.Add(M("db-1", "10.0.0.2"));
        first.Members.Add(M("db-2", "10.0.0.3"));
        second.Members.Add(M("db-1", "10.0.0.2"));
        second.Members.Add(M("db-3", "10.0.0.4"));
        await using var agent = new NodeAgent(Settings(first) with { Servers = [first.Url, second.Url] });
        var dispatched = new ConcurrentQueue<string>();
        agent.EventDispatched += e =>
        {
            if (e is MemberHandlerEvent m) dispatched.Enqueue(m.Type + ":" + string.Join(",", m.Members.Select(x => x.Name)));
        };
        await agent.StartAsync();
        await Eventually.True(() => dispatched.Count == 3, "three joins from the first welcome");
        Assert.Equal(["member-join:db-1", "member-join:db-2", "member-join:web-1"], dispatched.OrderBy(x => x));

        await first.MemberEventAsync("member-update", M("db-1", "10.0.0.9"));
        await Eventually.True(() => dispatched.Count == 4, "the member frame");
        first.Abort();
        await Eventually.True(() => second.IsConnected && dispatched.Count == 7, "the second welcome's differences");

        Assert.Equal(["member-update:db-1", "member-reap:db-2", "member-join:db-3"], dispatched.Skip(4).Take(3).OrderBy(x => x.Split(':')[1]));
    }

    [Fact]
    public async Task A_members_batch_is_handled_as_its_member_events_in_order()
    {
        await using var silo = await FakeSilo.StartAsync();
        await using var agent = new NodeAgent(Settings(silo));
        var dispatched = new ConcurrentQueue<string>();
        agent.EventDispatched += e =>
        {
            if (e is MemberHandlerEvent m) dispatched.Enqueue(m.Type + ":" + string.Join(",", m.Members.Select(x => x.Name)));
        };
        await agent.StartAsync();
        await Eventually.True(() => dispatched.Count == 1, "the join of the agent itself");

        await silo.SendAsync(new MembersFrame([
            new MemberEventFrame("member-join", M("db-1", "10.0.0.2")),
            new MemberEventFrame("member-join", M("db-2", "10.0.0.3")),
            new MemberEventFrame("member-failed", M("db-1", "10.0.0.2") with { Status = "failed" }),
        ]));

        await Eventually.True(() => dispatched.Count == 4, "one dispatch per member event of the batch");
        Assert.Equal(["member-join:db-1", "member-join:db-2", "member-failed:db-1"], dispatched.Skip(1));
        Assert.Equal("failed", agent.Members["db-1"].Status);
        Assert.Equal("alive", agent.Members["db-2"].Status);
    }

    [Fact]
    public async Task A_member_failed_reaches_the_handlers_without_waiting_for_the_quiet_period()
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.HeartbeatIntervalMs = 60_000;
        silo.Members.Add(M("db-1", "10.0.0.2"));
        var time = new ManualTimeProvider();
        var settings = Settings(silo) with { CoalescePeriod = TimeSpan.FromSeconds(3), QuiescentPeriod = TimeSpan.FromSeconds(1) };
        await using var agent = new NodeAgent(settings, timeProvider: time);
        var dispatched = new ConcurrentQueue<string>();
        agent.EventDispatched += e =>
        {
            if (e is MemberHandlerEvent m) dispatched.Enqueue(m.Type + ":" + string.Join(",", m.Members.Select(x => x.Name).Order()));
        };
        await agent.StartAsync();
        await Eventually.True(() => agent.Members.Count == 2, "the welcome's members");

        // The clock never moves, so only the failure can flush the window; db-1's pending join is replaced by its failure
        // (Serf keeps each member's latest event) and the agent's own join goes out with it, first (Serf's type order).
        await silo.SendAsync(new MemberEventFrame("member-failed", M("db-1", "10.0.0.2") with { Status = "failed" }));

        await Eventually.True(() => dispatched.Count == 2, "the pending events flushed by the failure");
        Assert.Equal(["member-join:web-1", "member-failed:db-1"], dispatched);
    }
}
