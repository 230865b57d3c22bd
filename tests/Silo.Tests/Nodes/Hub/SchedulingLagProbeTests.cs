using Platform.Silo.Agents;

namespace Platform.Silo.Tests.Nodes.Hub;

public sealed class SchedulingLagProbeTests
{
    [Fact]
    public void A_probe_still_waiting_counts_as_lag_and_a_prompt_one_clears_it()
    {
        var queued = new List<SchedulingLagProbe>();
        var probe = new SchedulingLagProbe(queued.Add);

        Assert.Equal(0, probe.Check(1_000));
        Assert.Single(queued);

        // Not run yet: the wait so far is the lag, and no second probe is queued behind the first.
        Assert.Equal(500, probe.Check(1_500));
        Assert.Single(queued);

        probe.Ran(1_600);
        Assert.Equal(600, probe.Check(1_700));
        Assert.Equal(2, queued.Count);

        probe.Ran(1_705);
        Assert.Equal(5, probe.Check(1_800));
    }
}
