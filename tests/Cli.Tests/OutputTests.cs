using System.Text;
using Platform.Cli.Output;
using Platform.Client;

namespace Platform.Cli.Tests;

/// <summary>Formatting rules beyond what the real serf's output covers: Go's JSON escaping, IPv6 addresses, health checks, monitor lines.</summary>
public sealed class OutputTests
{
    [Fact]
    public void Go_json_escapes_html_characters_and_control_characters_but_not_other_unicode()
    {
        var sb = new StringBuilder();
        GoJson.WriteString(sb, "<a & b>\n\t\"q\"\\ é \u2028 \u0001");
        Assert.Equal("\"\\u003ca \\u0026 b\\u003e\\n\\t\\\"q\\\"\\\\ é \\u2028 \\u0001\"", sb.ToString());
    }

    [Fact]
    public void Go_json_prints_empty_maps_and_lists_inline_and_nil_as_null()
    {
        Assert.Equal("{\n  \"a\": {},\n  \"b\": [],\n  \"c\": null\n}", GoJson.Indent(GoObject.Of(("a", new Dictionary<string, string>()), ("b", new List<object?>()), ("c", null))));
    }

    [Fact]
    public void An_ipv6_address_is_bracketed_as_go_prints_it()
    {
        Assert.Equal("[fd00::1]:7946", MembersOutput.Address(new Node("n", "fd00::1", 7946, null, "alive")));
    }

    [Fact]
    public void Detailed_members_show_health_checks_after_the_protocol()
    {
        var node = new Node("web-1", "10.0.0.1", 7946, new Dictionary<string, string> { ["role"] = "web" }, "alive",
            Checks: [new Protocol.CheckState("disk", "disk", "passing", ""), new Protocol.CheckState("http", "http", "critical", "503")]);
        Assert.Equal("web-1  10.0.0.1:7946  alive  role=web  Protocol Version: 5  Available Protocol Range: [2, 5]  Checks: disk=passing,http=critical",
            MembersOutput.Text([node], detailed: true));
    }

    [Fact]
    public void A_member_without_tags_keeps_the_glue_unless_it_is_the_last_line()
    {
        var tagged = new Node("a", "10.0.0.1", 1, new Dictionary<string, string> { ["k"] = "v" }, "alive");
        var bare = new Node("b", "10.0.0.2", 2, null, "alive");
        Assert.Equal("b  10.0.0.2:2  alive  \na  10.0.0.1:1  alive  k=v", MembersOutput.Text([bare, tagged], detailed: false));
        Assert.Equal("a  10.0.0.1:1  alive  k=v\nb  10.0.0.2:2  alive", MembersOutput.Text([tagged, bare], detailed: false));
    }

    [Fact]
    public void Monitor_lines_are_in_the_serf_agents_log_format()
    {
        var now = new DateTimeOffset(2026, 12, 3, 15, 44, 11, TimeSpan.Zero);
        var json = PlatformClient.Json;
        var join = MonitorEvent.Parse("""{"type":"member","event":"member-join","member":{"name":"web-3","addr":"10.0.0.3","port":7946,"tags":{},"status":"alive","protocol":5}}""", json);
        var user = MonitorEvent.Parse("""{"type":"user","name":"deploy","lTime":4,"id":"x","payload":"djE="}""", json);
        var dropped = MonitorEvent.Parse("""{"type":"dropped","count":12}""", json);
        var stamp = now.ToLocalTime().ToString("yyyy/MM/dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"{stamp} [INFO] serf: EventMemberJoin: web-3 10.0.0.3", MonitorOutput.Line(join, "INFO", now));
        Assert.Equal($"{stamp} [INFO] agent: Received event: user-event: deploy", MonitorOutput.Line(user, "DEBUG", now));
        Assert.Equal("v1", Encoding.UTF8.GetString(user.Payload!));
        Assert.Equal(4ul, user.LTime);
        Assert.Null(MonitorOutput.Line(user, "WARN", now));
        Assert.Equal($"{stamp} [WARN] monitor: 12 events dropped: this monitor fell behind", MonitorOutput.Line(dropped, "WARN", now));
    }

    [Theory]
    [InlineData("http://a:8080", "/v1/nodes?x=1", "http://a:8080/v1/nodes?x=1")]
    [InlineData("http://a:8080/platform/", "/v1/nodes", "http://a:8080/platform/v1/nodes")]
    public void Requests_keep_their_path_and_query_on_another_silo(string silo, string path, string expected)
    {
        Assert.Equal(new Uri(expected), SiloFailoverHandler.Rebase(new Uri(silo), path));
    }

    [Fact]
    public void A_requests_path_is_taken_relative_to_the_first_silos_base_path()
    {
        Assert.Equal("/v1/nodes?name=a", SiloFailoverHandler.RelativePath(new Uri("http://a:8080/platform/"), new Uri("http://a:8080/platform/v1/nodes?name=a")));
        Assert.Equal("/v1/nodes", SiloFailoverHandler.RelativePath(new Uri("http://a:8080"), new Uri("http://a:8080/v1/nodes")));
    }
}
