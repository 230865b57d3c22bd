using Platform.Protocol;

namespace Platform.Agent.Tests;

public sealed class MemberViewTests
{
    private static MemberInfo M(string name, string status = "alive", string addr = "10.0.0.1", string role = "web")
        => new(name, addr, 7946, new Dictionary<string, string> { ["role"] = role }, status, 5);

    [Fact]
    public void First_welcome_joins_every_alive_member_including_self()
    {
        var view = new MemberView();
        var events = view.Welcome([M("self"), M("a"), M("gone", "failed"), M("b")]);
        Assert.Equal(["member-join:self", "member-join:a", "member-join:b"], events.Select(e => e.Type + ":" + e.Member.Name));
        Assert.Equal(4, view.Snapshot().Count);
    }

    [Fact]
    public void A_reconnect_fires_only_the_differences()
    {
        var view = new MemberView();
        view.Welcome([M("self"), M("a"), M("b"), M("c"), M("d", "failed"), M("e")]);

        var events = view.Welcome([M("self"), M("a"), M("b", "failed"), M("c", "left"), M("d"), M("e", addr: "10.0.0.9"), M("new")]);

        Assert.Equal(
            ["member-failed:b", "member-leave:c", "member-join:d", "member-update:e", "member-join:new"],
            events.Select(e => e.Type + ":" + e.Member.Name));
    }

    [Fact]
    public void A_member_missing_from_a_later_welcome_is_reaped()
    {
        var view = new MemberView();
        view.Welcome([M("self"), M("a")]);
        var events = view.Welcome([M("self")]);
        Assert.Equal(["member-reap:a"], events.Select(e => e.Type + ":" + e.Member.Name));
        Assert.False(view.Snapshot().ContainsKey("a"));
    }

    [Fact]
    public void Member_frames_update_the_view()
    {
        var view = new MemberView();
        view.Welcome([M("self")]);
        view.Apply(new MemberEventFrame("member-join", M("x")));
        view.Apply(new MemberEventFrame("member-update", M("x", role: "db")));
        Assert.Equal("db", view.Snapshot()["x"].Tags["role"]);
        view.Apply(new MemberEventFrame("member-reap", M("x")));
        Assert.False(view.Snapshot().ContainsKey("x"));
    }
}
