namespace Platform.Builds.Pipelines;

/// <summary>
/// Buildkite's automatic retry rule: a job that ends with one of <see cref="ExitStatuses"/> (null: any non-zero; -1: its
/// agent was lost) is run again, at most <see cref="Limit"/> times. A cancelled job is never retried.
/// </summary>
public sealed record RetryRule(IReadOnlyList<int>? ExitStatuses, int Limit)
{
    /// <summary>The most retries one rule may ask for (Buildkite's bound).</summary>
    public const int MaxLimit = 10;

    /// <summary>What <c>retry: {automatic: true}</c> means: any failure, twice.</summary>
    public static readonly RetryRule Default = new(null, 2);

    public bool Matches(int exitStatus) => exitStatus != 0 && (ExitStatuses is null || ExitStatuses.Contains(exitStatus));

    /// <summary>
    /// Whether a job that ended with <paramref name="exitStatus"/> after <paramref name="retriesSoFar"/> retries is run again:
    /// the first rule that matches the status decides, and cancelled jobs never are.
    /// </summary>
    public static bool ShouldRetry(IReadOnlyList<RetryRule> rules, int exitStatus, int retriesSoFar, bool cancelled)
    {
        if (cancelled) return false;
        foreach (var rule in rules)
            if (rule.Matches(exitStatus)) return retriesSoFar < rule.Limit;
        return false;
    }
}
