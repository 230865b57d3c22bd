using Platform.Grains.Nodes;
using Platform.Protocol;
using Platform.Silo.Agents;

namespace Platform.Silo.Tests.Nodes.Hub;

/// <summary>Frames the hub assembles from cached member JSON decode exactly as the serialized frames do.</summary>
public sealed class MemberJsonTests
{
    private static NodeMember Member(string name, string status = NodeStatus.Alive, string role = "web") =>
        new(name, "10.0.0.7", 7946, new Dictionary<string, string> { ["role"] = role }, status, AgentProtocol.Version, 1);

    private static FleetEvent Event(ulong seq, string type, NodeMember member) => new(seq, type, member, null, false);

    [Fact]
    public void One_member_event_is_a_member_frame()
    {
        var json = new MemberJson();

        var frame = Assert.IsType<MemberEventFrame>(AgentProtocol.Decode(json.EncodeEvents([Event(1, MemberEvents.Join, Member("web-1"))])));

        Assert.Equal(MemberEvents.Join, frame.Event);
        Assert.Equal("web-1", frame.Member.Name);
        Assert.Equal("web", frame.Member.Tags["role"]);
    }

    [Fact]
    public void Several_member_events_are_one_members_frame_in_fleet_order()
    {
        var json = new MemberJson();
        var events = new List<FleetEvent>
        {
            Event(1, MemberEvents.Join, Member("web-1")),
            Event(2, MemberEvents.Join, Member("web-2")),
            Event(3, MemberEvents.Failed, Member("web-1", NodeStatus.Failed)),
        };

        var frame = Assert.IsType<MembersFrame>(AgentProtocol.Decode(json.EncodeEvents(events)));

        Assert.Equal(["member-join web-1 alive", "member-join web-2 alive", "member-failed web-1 failed"],
            frame.Events.Select(e => $"{e.Event} {e.Member.Name} {e.Member.Status}"));
    }

    [Fact]
    public void A_member_that_changed_is_encoded_again()
    {
        var json = new MemberJson();
        var first = json.Get(Member("web-1"));

        Assert.Same(first, json.Get(Member("web-1")));
        var retagged = AgentProtocol.Decode(json.EncodeEvents([Event(2, MemberEvents.Update, Member("web-1", role: "db"))]));

        Assert.Equal("db", Assert.IsType<MemberEventFrame>(retagged).Member.Tags["role"]);
        Assert.NotSame(first, json.Get(Member("web-1", role: "db")));
    }

    [Fact]
    public void An_assembled_welcome_decodes_as_the_serialized_welcome_and_shares_its_member_list()
    {
        var json = new MemberJson();
        var members = new List<MemberEntry>
        {
            new(Member("web-1"), "hub", DateTimeOffset.UnixEpoch),
            new(Member("db-1", NodeStatus.Failed, "db"), "hub", DateTimeOffset.UnixEpoch),
        };

        var list = json.EncodeList(members);
        var frame = json.EncodeWelcome(Member("web-1"), list, 500, 1500, 600, "silo \"a\"");
        var welcome = Assert.IsType<WelcomeFrame>(AgentProtocol.Decode(frame.ToArray()));

        // The list is sent from its one copy, as the middle fragment of the welcome.
        Assert.Same(list, frame.Shared);

        var expected = new WelcomeFrame(AgentFrameMapping.ToInfo(Member("web-1")), [.. members.Select(m => AgentFrameMapping.ToInfo(m.Member))], 500, 1500, "silo \"a\"", 600);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(AgentProtocol.Encode(expected)), System.Text.Encoding.UTF8.GetString(AgentProtocol.Encode(welcome)));
    }

    [Theory]
    [InlineData(50, 0)]
    [InlineData(255, 0)]
    [InlineData(1000, 20)]
    [InlineData(10000, 200)]
    [InlineData(100000, 200)]
    public void Member_batches_wait_longer_the_more_agents_are_connected_up_to_200_ms(int connections, int delayMs)
        => Assert.Equal(TimeSpan.FromMilliseconds(delayMs), AgentHub.MemberBatchDelay(connections));
}
