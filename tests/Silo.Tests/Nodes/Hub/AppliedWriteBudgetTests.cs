using Platform.Silo.Agents;

namespace Platform.Silo.Tests.Nodes.Hub;

public sealed class AppliedWriteBudgetTests
{
    [Fact]
    public void A_scan_may_write_the_rate_over_the_time_since_the_last_scan_at_least_one_and_at_most_a_tenth_of_a_second_worth()
    {
        var budget = new AppliedWriteBudget(perSecond: 1000);
        Assert.Equal(1, budget.Take(10_000));
        Assert.Equal(100, budget.Take(10_100));
        Assert.Equal(50, budget.Take(10_150));
        // A scan that comes 2 s late writes no burst.
        Assert.Equal(100, budget.Take(12_150));
        Assert.Equal(1, budget.Take(12_150));

        var slow = new AppliedWriteBudget(perSecond: 5);
        slow.Take(1_000);
        Assert.Equal(1, slow.Take(1_100));
    }

    [Fact]
    public void Scans_start_where_the_last_one_ran_out_of_budget()
    {
        var budget = new AppliedWriteBudget(perSecond: 1000);
        Assert.Equal(0, budget.Start(10));
        budget.ResumeAt(7);
        Assert.Equal(7, budget.Start(10));
        // Connections went away since: the position wraps.
        Assert.Equal(2, budget.Start(5));
        Assert.Equal(0, budget.Start(0));
    }
}
