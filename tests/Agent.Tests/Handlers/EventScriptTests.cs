using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent.Tests.Handlers;

public sealed class EventScriptTests
{
    private static readonly MemberHandlerEvent Join = new("member-join", []);
    private static readonly MemberHandlerEvent Leave = new("member-leave", []);
    private static readonly UserHandlerEvent Deploy = new("deploy", [], 1, true);
    private static readonly UserHandlerEvent Restart = new("restart", [], 2, true);
    private static readonly QueryHandlerEvent Load = new("q1", "load", [], 3, DateTimeOffset.MaxValue);

    [Fact]
    public void A_bare_script_takes_every_event()
    {
        var script = Assert.Single(EventScript.Parse("handler.sh"));
        Assert.Equal(new EventScript("*", "", "handler.sh"), script);
        Assert.All(new HandlerEvent[] { Join, Deploy, Load }, e => Assert.True(script.Accepts(e)));
    }

    [Theory]
    [InlineData("handler.sh", true)]
    [InlineData("member-join,member-leave=lb.sh", true)]
    [InlineData("member-reap=gc.sh", true)]
    [InlineData("user:deploy=deploy.sh", false)]
    [InlineData("user=all-user.sh", false)]
    [InlineData("query:load=uptime", false)]
    public void Member_handlers_and_catch_alls_take_member_events(string entry, bool takes) =>
        Assert.All(EventScript.Parse(entry), s => Assert.Equal(takes, s.TakesMemberEvents));

    [Fact]
    public void A_list_of_types_makes_one_handler_per_type()
    {
        var scripts = EventScript.Parse("member-join,member-leave=lb.sh");
        Assert.Equal([new("member-join", "", "lb.sh"), new("member-leave", "", "lb.sh")], scripts);
        Assert.True(scripts[0].Accepts(Join));
        Assert.False(scripts[0].Accepts(Leave));
        Assert.False(scripts[0].Accepts(Deploy));
    }

    [Fact]
    public void User_and_query_filters_match_by_name_when_one_is_given()
    {
        var anyUser = Assert.Single(EventScript.Parse("user=u.sh"));
        var deploy = Assert.Single(EventScript.Parse("user:deploy=deploy.sh"));
        var anyQuery = Assert.Single(EventScript.Parse("query=q.sh"));
        var load = Assert.Single(EventScript.Parse("query:load=uptime"));

        Assert.True(anyUser.Accepts(Deploy) && anyUser.Accepts(Restart) && !anyUser.Accepts(Load));
        Assert.True(deploy.Accepts(Deploy) && !deploy.Accepts(Restart));
        Assert.True(anyQuery.Accepts(Load) && !anyQuery.Accepts(Deploy));
        Assert.True(load.Accepts(Load) && !load.Accepts(Load with { Name = "disk" }));
    }

    [Fact]
    public void Only_the_first_equals_splits_filter_from_script()
    {
        var script = Assert.Single(EventScript.Parse("user:deploy=env A=1 B=2 deploy.sh"));
        Assert.Equal("env A=1 B=2 deploy.sh", script.Script);
    }

    [Fact]
    public void An_unknown_event_type_is_an_error_naming_it()
    {
        var error = Assert.Throws<FormatException>(() => EventScript.Parse("member-join,usr:deploy=x.sh"));
        Assert.Contains("unknown event type 'usr:deploy'", error.Message);
        Assert.StartsWith("event handler 'member-join,usr:deploy=x.sh'", error.Message);
    }

    [Fact]
    public void A_member_filter_does_not_take_a_name()
    {
        // Serf ignores names on member filters: "member-join" never carries one, so a query with the same name does not match.
        Assert.False(Assert.Single(EventScript.Parse("member-join=x.sh")).Accepts(new MemberHandlerEvent("member-failed", Array.Empty<MemberInfo>())));
    }
}
