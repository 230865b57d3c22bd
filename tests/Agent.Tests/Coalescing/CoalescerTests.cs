using Platform.Agent.Coalescing;
using Platform.Agent.Handlers;
using Platform.Agent.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests.Coalescing;

public sealed class CoalescerTests
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private static MemberInfo M(string name, string status = "alive", string role = "web")
        => new(name, "10.0.0.1", 7946, new Dictionary<string, string> { ["role"] = role }, status, 5);

    [Fact]
    public void Member_events_flush_after_a_quiet_second_as_one_event_per_type()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add);

        coalescer.Add("member-join", M("a"));
        coalescer.Add("member-join", M("b"));
        coalescer.Add("member-failed", M("c", "failed"));
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Empty(out_);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, out_.Count);
        Assert.Equal(["member-join:a", "member-join:b"], out_[0].Members.Select(m => out_[0].Type + ":" + m.Name));
        Assert.Equal(["member-failed:c"], out_[1].Members.Select(m => out_[1].Type + ":" + m.Name));
    }

    [Fact]
    public void A_member_failed_flushes_the_window_at_once_with_the_events_pending()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add);

        coalescer.Add("member-join", M("a"));
        coalescer.FlushIfFailed();
        Assert.Empty(out_);

        coalescer.Add("member-failed", M("b", "failed"));
        coalescer.Add("member-failed", M("c", "failed"));
        coalescer.FlushIfFailed();

        Assert.Equal(["member-join:a", "member-failed:b,c"], out_.Select(e => e.Type + ":" + string.Join(",", e.Members.Select(m => m.Name))));
        // The window is closed: the next event opens a new one and waits for the quiet period again.
        coalescer.Add("member-join", M("d"));
        coalescer.FlushIfFailed();
        Assert.Equal(2, out_.Count);
        time.Advance(Quiet);
        Assert.Equal(3, out_.Count);
        Assert.Equal("member-join", out_[2].Type);
    }

    /// <summary>A coalescer whose batches are recorded in <paramref name="out_"/>, each done only when the test calls its entry in <paramref name="handled"/>.</summary>
    private static MemberEventCoalescer Holding(ManualTimeProvider time, out List<MemberHandlerEvent> out_, out List<Action> handled)
    {
        var events = out_ = [];
        var dones = handled = [];
        return new MemberEventCoalescer(time, Period, Quiet, (e, done) =>
        {
            events.Add(e);
            dones.Add(done);
        });
    }

    [Fact]
    public void While_a_batch_is_being_handled_later_events_are_held_and_handed_out_together_when_it_is_done()
    {
        var time = new ManualTimeProvider();
        using var coalescer = Holding(time, out var out_, out var handled);
        string Batches() => string.Join(" ", out_.Select(e => e.Type + ":" + string.Join(",", e.Members.Select(m => m.Name))));

        coalescer.Add("member-failed", M("a", "failed"));
        coalescer.FlushIfFailed();
        Assert.Equal("member-failed:a", Batches());

        // The handler for a's failure is still running: b's failure and the joins of c and a (back) wait for it,
        // past the quiet period and the coalesce period alike.
        coalescer.Add("member-failed", M("b", "failed"));
        coalescer.FlushIfFailed();
        coalescer.Add("member-join", M("c"));
        coalescer.Add("member-join", M("a"));
        time.Advance(Period);
        Assert.Equal("member-failed:a", Batches());

        handled[0]();
        Assert.Equal("member-failed:a member-join:c,a member-failed:b", Batches());

        // Those two are handled; then a failure goes out at once again.
        handled[1]();
        handled[2]();
        coalescer.Add("member-failed", M("c", "failed"));
        coalescer.FlushIfFailed();
        Assert.Equal("member-failed:a member-join:c,a member-failed:b member-failed:c", Batches());
    }

    [Fact]
    public void A_member_that_fails_and_rejoins_while_its_join_is_being_handled_costs_no_run()
    {
        var time = new ManualTimeProvider();
        using var coalescer = Holding(time, out var out_, out var handled);

        coalescer.Add("member-join", M("a"));
        time.Advance(Quiet);
        Assert.Single(out_);

        coalescer.Add("member-failed", M("a", "failed"));
        coalescer.FlushIfFailed();
        coalescer.Add("member-join", M("a"));
        handled[0]();
        time.Advance(Period);
        Assert.Single(out_);
    }

    [Fact]
    public void A_failure_of_the_agent_itself_waits_for_the_quiet_period_and_is_coalesced_with_its_rejoin()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add, self: "me");

        coalescer.Add("member-failed", M("me", "failed"));
        coalescer.FlushIfFailed();
        Assert.Empty(out_);

        coalescer.Add("member-join", M("me"));
        time.Advance(Quiet);
        Assert.Equal(["member-join:me"], out_.Select(e => e.Type + ":" + string.Join(",", e.Members.Select(m => m.Name))));
    }

    [Fact]
    public void A_steady_stream_of_member_events_flushes_at_the_coalesce_period()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add);

        for (var i = 0; i < 5; i++)
        {
            coalescer.Add("member-join", M("n" + i));
            time.Advance(TimeSpan.FromMilliseconds(700));
        }

        // 5 × 700 ms = 3.5 s: never quiet for 1 s, so the 3 s window flushed what had arrived by then (n0..n4 at 0, .7, 1.4, 2.1, 2.8 s).
        var flushed = Assert.Single(out_);
        Assert.Equal(["n0", "n1", "n2", "n3", "n4"], flushed.Members.Select(m => m.Name));
    }

    [Fact]
    public void Only_each_members_latest_event_is_kept()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add);

        coalescer.Add("member-join", M("a"));
        coalescer.Add("member-failed", M("a", "failed"));
        coalescer.Add("member-join", M("a"));
        coalescer.Add("member-leave", M("b", "left"));
        time.Advance(Quiet);

        Assert.Equal(["member-join:a", "member-leave:b"], out_.SelectMany(e => e.Members.Select(m => e.Type + ":" + m.Name)));
    }

    [Fact]
    public void A_repeat_of_the_last_handed_out_event_is_dropped_except_updates()
    {
        var time = new ManualTimeProvider();
        var out_ = new List<MemberHandlerEvent>();
        using var coalescer = new MemberEventCoalescer(time, Period, Quiet, out_.Add);

        coalescer.Add("member-join", M("a"));
        coalescer.Add("member-update", M("b"));
        time.Advance(Quiet);
        coalescer.Add("member-join", M("a"));
        coalescer.Add("member-update", M("b", role: "db"));
        time.Advance(Quiet);

        Assert.Equal(["member-join:a", "member-update:b", "member-update:b"], out_.SelectMany(e => e.Members.Select(m => e.Type + ":" + m.Name)));
        Assert.Equal("db", out_[^1].Members[0].Tags["role"]);
    }

    [Fact]
    public void User_events_keep_the_latest_ltime_per_name_and_report_the_rest()
    {
        var time = new ManualTimeProvider();
        var emitted = new List<UserHandlerEvent>();
        var superseded = new List<UserHandlerEvent>();
        using var coalescer = new UserEventCoalescer(time, Period, Quiet, emitted.Add, superseded.Add);

        coalescer.Add(new UserHandlerEvent("deploy", [1], 5, true));
        coalescer.Add(new UserHandlerEvent("deploy", [2], 7, true));
        coalescer.Add(new UserHandlerEvent("deploy", [3], 6, true));
        coalescer.Add(new UserHandlerEvent("restart", [4], 8, true));
        Assert.Empty(emitted);

        time.Advance(Quiet);

        Assert.Equal([("deploy", 7UL), ("restart", 8UL)], emitted.Select(e => (e.Name, e.LTime)));
        Assert.Equal([5UL, 6UL], superseded.Select(e => e.LTime).Order());
    }

    [Fact]
    public void User_events_of_the_same_ltime_all_survive()
    {
        var time = new ManualTimeProvider();
        var emitted = new List<UserHandlerEvent>();
        using var coalescer = new UserEventCoalescer(time, Period, Quiet, emitted.Add, _ => { });

        coalescer.Add(new UserHandlerEvent("deploy", [1], 9, true));
        coalescer.Add(new UserHandlerEvent("deploy", [2], 9, true));
        time.Advance(Period);

        Assert.Equal(2, emitted.Count);
    }

    [Fact]
    public void Events_after_a_flush_open_a_new_window()
    {
        var time = new ManualTimeProvider();
        var emitted = new List<UserHandlerEvent>();
        using var coalescer = new UserEventCoalescer(time, Period, Quiet, emitted.Add, _ => { });

        coalescer.Add(new UserHandlerEvent("deploy", [], 1, true));
        time.Advance(Quiet);
        coalescer.Add(new UserHandlerEvent("deploy", [], 2, true));
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Single(emitted);
        time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.Equal([1UL, 2UL], emitted.Select(e => e.LTime));
    }
}
