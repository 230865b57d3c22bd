using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

public sealed class MembershipHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly SiloAddress A = new("10.0.0.1", 11111, 1);
    private static readonly SiloAddress B = new("10.0.0.2", 11111, 2);
    private static readonly SiloAddress C = new("10.0.0.3", 11111, 3);

    private static MembershipEntry Row(SiloAddress silo, string name, SiloStatus status, int startedSecond, params SuspectVote[] votes) =>
        new(silo, name, status, null, T0.AddSeconds(startedSecond), T0.AddSeconds(startedSecond + 30), votes);

    [Fact]
    public void The_first_view_seeds_the_history_from_the_rows_and_later_views_add_what_changed()
    {
        var history = new MembershipHistory();
        var vote = new SuspectVote(A, T0.AddSeconds(50));
        var first = new ClusterView(7, [Row(A, "a", SiloStatus.Active, 0), Row(B, "b", SiloStatus.Dead, 10, vote)]);
        history.Observe(ClusterView.Empty, first, T0.AddSeconds(100));

        Assert.Equal(
            [("b", "dead", A.ToString(), T0.AddSeconds(50)), ("b", "suspected", A.ToString(), T0.AddSeconds(50)), ("b", "joined", null, T0.AddSeconds(10)), ("a", "joined", null, T0)],
            history.Newest().Select(c => (c.Name, c.Change, c.By, c.Time)));

        // C joins, becomes active, is suspected by A and then declared dead: each change once, at the time this silo saw it.
        var joining = new ClusterView(8, [.. first.Members, Row(C, "c", SiloStatus.Joining, 101)]);
        history.Observe(first, joining, T0.AddSeconds(101));
        var active = new ClusterView(9, [.. first.Members, Row(C, "c", SiloStatus.Active, 101)]);
        history.Observe(joining, active, T0.AddSeconds(102));
        var suspicion = new SuspectVote(A, T0.AddSeconds(110));
        var suspected = new ClusterView(10, [.. first.Members, Row(C, "c", SiloStatus.Active, 101, suspicion)]);
        history.Observe(active, suspected, T0.AddSeconds(110));
        var dead = new ClusterView(11, [.. first.Members, Row(C, "c", SiloStatus.Dead, 101, suspicion)]);
        history.Observe(suspected, dead, T0.AddSeconds(112));

        Assert.Equal(
            [("dead", A.ToString(), 11, T0.AddSeconds(112)), ("suspected", A.ToString(), 10, T0.AddSeconds(110)), ("active", null, 9, T0.AddSeconds(102)), ("joined", null, 8, T0.AddSeconds(101))],
            history.Newest().Where(c => c.Name == "c").Select(c => (c.Change, c.By, c.Version, c.Time)));
        Assert.Equal(8, history.Newest().Count);
    }

    [Fact]
    public void Only_the_newest_changes_are_kept()
    {
        var history = new MembershipHistory(capacity: 3);
        var previous = ClusterView.Empty;
        for (var i = 0; i < 5; i++)
        {
            var next = new ClusterView(i, [Row(new SiloAddress("10.0.1.1", 1, i), $"s{i}", SiloStatus.Joining, i)]);
            history.Observe(previous, next, T0.AddSeconds(i));
            previous = next;
        }
        Assert.Equal(["s4", "s3", "s2"], history.Newest().Select(c => c.Name));
    }
}
