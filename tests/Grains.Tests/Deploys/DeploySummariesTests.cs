using Platform.Grains.Deploys;

namespace Platform.Grains.Tests.Deploys;

public sealed class DeploySummariesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DeploySummary At(string id, int minute, long revision = 1)
        => new(id, "all", "running", T0.AddMinutes(minute), null, []) { Revision = revision };

    [Fact]
    public void The_list_stays_newest_first_and_bounded_and_a_late_summary_of_an_old_deploy_keeps_its_place()
    {
        var list = new List<DeploySummary>();
        Assert.True(DeploySummaries.Put(list, At("a", 1), 3));
        Assert.True(DeploySummaries.Put(list, At("c", 3), 3));
        Assert.True(DeploySummaries.Put(list, At("b", 2), 3));
        Assert.Equal(["c", "b", "a"], list.Select(d => d.Id));

        Assert.True(DeploySummaries.Put(list, At("d", 4), 3));
        Assert.Equal(["d", "c", "b"], list.Select(d => d.Id));
        // Older than everything kept: not stored.
        Assert.False(DeploySummaries.Put(list, At("a", 1, 2), 3));
        // A newer revision replaces in place; an older one changes nothing.
        Assert.True(DeploySummaries.Put(list, At("b", 2, 5), 3));
        Assert.False(DeploySummaries.Put(list, At("b", 2, 4), 3));
        Assert.Equal(["d", "c", "b"], list.Select(d => d.Id));
        Assert.Equal(5, list[2].Revision);
    }
}
