namespace Platform.Agent.Checks;

/// <summary>One run of an interval check (script, HTTP, TCP): it enforces its own timeout and never throws for a failed probe.</summary>
internal interface ICheckProbe
{
    /// <summary>Runs the check once; throws <see cref="OperationCanceledException"/> only when <paramref name="stopping"/> fires.</summary>
    Task<CheckResult> RunAsync(CancellationToken stopping);
}
