using System.Text.Json;
using Platform.Cli.Output;
using Platform.Client;

namespace Platform.Cli.Tests;

/// <summary><c>platform monitor</c>'s text: Serf's log lines at INFO, check changes and leave intents only at DEBUG.</summary>
public sealed class MonitorOutputTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_check_line_shows_at_debug_and_not_at_the_default_info()
    {
        var e = MonitorEvent.Parse("""{"type":"check","node":"web-1","check":{"id":"app","name":"App","status":"critical","output":"down"}}""", Json);
        Assert.Equal(("web-1", "app", "critical", "down"), (e.Node, e.Check!.Id, e.Check.Status, e.Check.Output));
        Assert.Null(MonitorOutput.Line(e, "INFO", Now));
        Assert.EndsWith("[DEBUG] agent: Check status updated: node=web-1 check=app status=critical", MonitorOutput.Line(e, "DEBUG", Now));
    }

    [Fact]
    public void A_member_join_is_the_serf_agents_line_at_info()
    {
        var e = MonitorEvent.Parse("""{"type":"member","event":"member-join","member":{"name":"web-1","addr":"10.0.0.1","port":7946,"tags":{},"status":"alive"}}""", Json);
        Assert.EndsWith("[INFO] serf: EventMemberJoin: web-1 10.0.0.1", MonitorOutput.Line(e, "INFO", Now));
    }

    [Fact]
    public void A_node_leaving_is_serfs_leave_intent_line_at_debug()
    {
        var e = MonitorEvent.Parse("""{"type":"leaving","node":"web-1"}""", Json);
        Assert.Null(MonitorOutput.Line(e, "INFO", Now));
        Assert.EndsWith("[DEBUG] serf: messageLeaveType: web-1", MonitorOutput.Line(e, "DEBUG", Now));
    }
}
