namespace Platform.Agent.Checks;

/// <summary>
/// Consul's flap guard (its StatusHandler) for one check: a result changes the check only after
/// <c>success_before_passing</c> successes or <c>failures_before_critical</c> failures in a row. Warning counts
/// as a success, as in Consul. Both counters start at their threshold, so the first result after start applies
/// at once; the thresholds guard changes after that. Not thread-safe: one check runs one probe at a time.
/// </summary>
internal sealed class StatusThresholds
{
    private readonly int _successBeforePassing;
    private readonly int _failuresBeforeWarning;
    private readonly int _failuresBeforeCritical;
    private int _successes;
    private int _failures;

    public StatusThresholds(int successBeforePassing, int failuresBeforeWarning, int failuresBeforeCritical)
    {
        _successBeforePassing = successBeforePassing;
        _failuresBeforeWarning = failuresBeforeWarning;
        _failuresBeforeCritical = failuresBeforeCritical;
        _successes = successBeforePassing;
        _failures = failuresBeforeCritical;
    }

    /// <summary>The result to apply to the check, or null while a threshold is not reached (the check keeps its state).</summary>
    public CheckResult? Apply(CheckResult result)
    {
        if (result.Status is CheckStatus.Passing or CheckStatus.Warning)
        {
            _successes++;
            _failures = 0;
            return _successes >= _successBeforePassing ? result : null;
        }

        _failures++;
        _successes = 0;
        if (_failures >= _failuresBeforeCritical) return result;
        // Between the two thresholds a failing check shows warning with the failure's output.
        if (_failures >= _failuresBeforeWarning) return result with { Status = CheckStatus.Warning };
        return null;
    }
}
