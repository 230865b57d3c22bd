using System.Text;
using Platform.Grains.Nodes;

namespace Platform.Grains.Tests.Nodes;

public sealed class FleetRecordTests
{
    private static readonly DateTimeOffset s_at = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void A_user_event_keeps_its_node_and_tag_filters_through_the_journal()
    {
        var fired = new UserEvent("id1", "deploy", [1], 7, false, s_at, "^web-", "role=web");
        var decoded = FleetRecord.Decode(new FleetRecord(null, fired).Encode()).User!;
        Assert.Equal(("^web-", "role=web", 7UL), (decoded.NodeFilter, decoded.TagFilter, decoded.LTime));
    }

    [Fact]
    public void A_user_event_journaled_before_filters_existed_reads_as_unfiltered()
    {
        var json = """{"Change":null,"User":{"Id":"id1","Name":"deploy","Payload":"AQ==","LTime":3,"Coalesce":true,"At":"2026-01-02T03:04:05+00:00"}}""";
        var decoded = FleetRecord.Decode(Encoding.UTF8.GetBytes(json)).User!;
        Assert.Equal(("deploy", (string?)null, (string?)null), (decoded.Name, decoded.NodeFilter, decoded.TagFilter));
    }
}
