namespace Platform.Agent.Checks;

/// <summary>What one run of a check found: a <see cref="CheckStatus"/> value and the output to show with it.</summary>
public readonly record struct CheckResult(string Status, string Output)
{
    /// <summary>The result applies at once, whatever the thresholds say: Consul does so for a script that timed out.</summary>
    internal bool SkipsThresholds { get; init; }
}
