using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class StatusThresholdsTests
{
    private static readonly CheckResult s_pass = new(CheckStatus.Passing, "ok");
    private static readonly CheckResult s_warn = new(CheckStatus.Warning, "slow");
    private static readonly CheckResult s_fail = new(CheckStatus.Critical, "down");

    [Fact]
    public void Without_thresholds_every_result_applies()
    {
        var thresholds = new StatusThresholds(0, 0, 0);
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
        Assert.Equal(s_warn, thresholds.Apply(s_warn));
    }

    [Fact]
    public void First_result_applies_at_once_as_in_Consul()
    {
        Assert.Equal(s_pass, new StatusThresholds(3, 3, 3).Apply(s_pass));
        Assert.Equal(s_fail, new StatusThresholds(3, 3, 3).Apply(s_fail));
    }

    [Fact]
    public void Success_before_passing_needs_that_many_successes_in_a_row_after_a_failure()
    {
        var thresholds = new StatusThresholds(successBeforePassing: 3, 0, 0);
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
        Assert.Null(thresholds.Apply(s_pass));
        Assert.Null(thresholds.Apply(s_pass));
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
        Assert.Null(thresholds.Apply(s_pass));
        Assert.Null(thresholds.Apply(s_pass));
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
    }

    [Fact]
    public void Warning_counts_as_a_success()
    {
        var thresholds = new StatusThresholds(successBeforePassing: 2, 0, 0);
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
        Assert.Null(thresholds.Apply(s_warn));
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
    }

    [Fact]
    public void Failures_before_critical_needs_that_many_failures_in_a_row()
    {
        var thresholds = new StatusThresholds(0, 3, failuresBeforeCritical: 3);
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
        Assert.Null(thresholds.Apply(s_fail));
        Assert.Null(thresholds.Apply(s_fail));
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
        Assert.Null(thresholds.Apply(s_fail));
        Assert.Null(thresholds.Apply(s_fail));
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
    }

    [Fact]
    public void Between_failures_before_warning_and_critical_a_failure_shows_warning()
    {
        var thresholds = new StatusThresholds(0, failuresBeforeWarning: 1, failuresBeforeCritical: 3);
        Assert.Equal(s_pass, thresholds.Apply(s_pass));
        Assert.Equal(s_fail with { Status = CheckStatus.Warning }, thresholds.Apply(s_fail));
        Assert.Equal(s_fail with { Status = CheckStatus.Warning }, thresholds.Apply(s_fail));
        Assert.Equal(s_fail, thresholds.Apply(s_fail));
    }
}
