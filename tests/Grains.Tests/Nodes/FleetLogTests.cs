using Platform.Grains.Nodes;

namespace Platform.Grains.Tests.Nodes;

public sealed class FleetLogTests
{
    private static readonly DateTimeOffset s_at = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static NodeMember Member(string name, string status = NodeStatus.Alive, string role = "web") =>
        new(name, "10.0.0.1", 7946, new Dictionary<string, string> { ["role"] = role }, status, 5, 1);

    private static FleetEvent? Fire(FleetLog log, string name) => log.Apply(new FleetRecord(null, log.NewUserEvent(name, [1, 2], coalesce: true, s_at)));

    [Fact]
    public void User_events_take_increasing_lamport_times_and_the_history_keeps_the_newest()
    {
        var log = new FleetLog(userEventHistory: 3, recentEvents: 100);
        for (var i = 0; i < 5; i++) Fire(log, $"e{i}");
        Assert.Equal(5UL, log.UserLTime);
        Assert.Equal(["e2", "e3", "e4"], log.UserEventsAfter(0).Select(e => e.Name));
        Assert.Equal([4UL, 5UL], log.UserEventsAfter(3).Select(e => e.LTime));
    }

    [Fact]
    public void A_change_without_a_member_event_updates_the_summary_but_publishes_nothing()
    {
        var log = new FleetLog(10, 10);
        Assert.NotNull(log.Apply(new FleetRecord(new MemberChange(MemberEvents.Join, Member("a"), "silo1/x", s_at), null)));
        Assert.Null(log.Apply(new FleetRecord(new MemberChange(null, Member("a"), "silo2/y", s_at), null)));
        Assert.Equal(1UL, log.LastSeq);
        Assert.Equal("silo2/y", Assert.Single(log.Members).Hub);
    }

    [Fact]
    public void Reap_removes_the_member_and_is_published()
    {
        var log = new FleetLog(10, 10);
        log.Apply(new FleetRecord(new MemberChange(MemberEvents.Join, Member("a"), "h", s_at), null));
        var reaped = log.Apply(new FleetRecord(new MemberChange(MemberEvents.Reap, Member("a", NodeStatus.Left), "h", s_at), null));
        Assert.Equal(MemberEvents.Reap, reaped!.MemberEvent);
        Assert.Empty(log.Members);
    }

    [Fact]
    public void A_hub_catches_up_with_what_was_published_or_is_told_the_events_are_gone()
    {
        var log = new FleetLog(10, recentEvents: 3);
        for (var i = 0; i < 5; i++) Fire(log, $"e{i}");
        var fresh = log.CatchUp(null, publishedSeq: 5);
        Assert.Equal(5UL, fresh.LastSeq);
        Assert.Empty(fresh.Events);
        Assert.Equal([4UL, 5UL], log.CatchUp(3, 5).Events.Select(e => e.Seq));
        // Applied but not yet durable: not shown, it is published when its append commits.
        Assert.Equal([4UL], log.CatchUp(3, 4).Events.Select(e => e.Seq));
        Assert.Equal(4UL, log.CatchUp(null, 4).LastSeq);
        Assert.True(log.CatchUp(1, 5).Cleared);
        Assert.Empty(log.CatchUp(5, 5).Events);
    }

    [Fact]
    public void A_snapshot_keeps_members_clocks_and_user_events()
    {
        var log = new FleetLog(10, 10);
        log.Apply(new FleetRecord(new MemberChange(MemberEvents.Join, Member("a"), "h", s_at), null));
        Fire(log, "deploy");
        log.NextQueryLTime();
        var copy = new FleetLog(10, 10);
        copy.Load(FleetSnapshot.Decode(log.Save().Encode()));
        Assert.Equal(log.LastSeq, copy.LastSeq);
        Assert.Equal(1UL, copy.UserLTime);
        Assert.Equal(1UL, copy.QueryLTime);
        Assert.Equal("web", Assert.Single(copy.Members).Member.Tags["role"]);
        Assert.Equal([1, 2], Assert.Single(copy.UserEventsAfter(0)).Payload);
        Assert.Equal(2UL, copy.NewUserEvent("next", [], false, s_at).LTime);
    }

    [Fact]
    public void A_record_that_is_not_a_fleet_record_is_rejected_with_what_is_wrong()
    {
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => FleetRecord.Decode("{"u8)).Message);
        Assert.Contains("neither", Assert.Throws<InvalidDataException>(() => FleetRecord.Decode("{}"u8)).Message);
    }

    [Theory]
    [InlineData(0, 3200)]
    [InlineData(9, 3200)]
    [InlineData(10, 6400)]
    [InlineData(1000, 12800)]
    public void The_default_query_timeout_follows_serf(int alive, int expectedMs)
        => Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new NodesOptions().DefaultQueryTimeout(alive));

    [Fact]
    public void Options_that_cannot_work_are_named()
    {
        Assert.Null(new NodesOptions().Validate());
        Assert.Contains("HeartbeatTimeout", new NodesOptions { HeartbeatTimeout = TimeSpan.FromMilliseconds(100) }.Validate());
        Assert.Contains("PongAfter", new NodesOptions { PongAfter = TimeSpan.FromMilliseconds(-1) }.Validate());
        Assert.Contains("PongAfter", new NodesOptions { PongAfter = TimeSpan.FromMilliseconds(1200) }.Validate());
        Assert.Null(new NodesOptions { PongAfter = TimeSpan.Zero }.Validate());
        Assert.Contains("AppliedWritesPerSecond", new NodesOptions { AppliedWritesPerSecond = 0 }.Validate());
    }
}
