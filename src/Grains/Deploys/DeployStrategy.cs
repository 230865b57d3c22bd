namespace Platform.Grains.Deploys;

/// <summary>A batch size: <see cref="Count"/> nodes, or <see cref="Percent"/> of the deploy's nodes (one of them is set).</summary>
public sealed record BatchSize(int Count, int Percent)
{
    public static BatchSize Nodes(int count) => new(count, 0);

    public static BatchSize Share(int percent) => new(0, percent);

    /// <summary>The size for a deploy of <paramref name="total"/> nodes: a percentage rounds down, but is at least one node (Ansible's <c>serial</c>).</summary>
    public int Resolve(int total) => Percent > 0 ? Math.Max(1, total * Percent / 100) : Count;

    public override string ToString() => Percent > 0 ? $"{Percent}%" : Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// How a deploy rolls out (docs/deploys.md, "Strategy"): the batch ramp (the last size repeats), how many nodes run at
/// once, the failure threshold, the pause between batches and the per-node timeout.
/// </summary>
public sealed record DeployStrategy
{
    /// <summary>The batch sizes in order; the last one repeats. Empty: one batch of every node.</summary>
    public List<BatchSize> Batches { get; init; } = [];

    /// <summary>Nodes running at once within a batch; 0: the whole batch.</summary>
    public int MaxParallel { get; init; }

    /// <summary>The failure threshold: no new node starts once failed + timed-out + lost exceeds it.</summary>
    public BatchSize FailureThreshold { get; init; } = BatchSize.Nodes(0);

    /// <summary>The wait after a batch ends before the next starts.</summary>
    public TimeSpan Pause { get; init; }

    /// <summary>How long one node may run before it is stopped and counted timed-out.</summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Why this strategy cannot work, naming the field; null when it can.</summary>
    public string? Validate()
    {
        for (var i = 0; i < Batches.Count; i++)
        {
            var b = Batches[i];
            var field = Batches.Count == 1 ? "strategy.batch" : $"strategy.batch[{i}]";
            if (b.Percent < 0 || b.Percent > 100) return $"{field}: {b.Percent}% is not a share of the nodes; expected 1% to 100%";
            if (b.Percent == 0 && b.Count < 1) return $"{field}: {b}; expected a batch of at least 1 node or 1%";
        }
        if (MaxParallel < 0) return $"strategy.max_parallel: {MaxParallel}; expected 1 or more (or leave it out for the whole batch)";
        if (FailureThreshold.Percent is < 0 or > 100) return $"strategy.failure_threshold: {FailureThreshold.Percent}%; expected 0% to 100%";
        if (FailureThreshold.Count < 0) return $"strategy.failure_threshold: {FailureThreshold.Count}; expected 0 or more failed nodes";
        if (Pause < TimeSpan.Zero) return "strategy.pause: negative; expected a duration such as \"30s\"";
        if (NodeTimeout <= TimeSpan.Zero) return "strategy.node_timeout: expected a duration above zero, such as \"10m\"";
        return null;
    }

    /// <summary>
    /// The failed nodes allowed for a deploy of <paramref name="total"/> nodes: a count as given, a percentage of the
    /// nodes rounded down. The rollout stops starting nodes when failed + timed-out + lost is greater than this.
    /// </summary>
    public int AllowedFailures(int total) => FailureThreshold.Percent > 0 ? total * FailureThreshold.Percent / 100 : FailureThreshold.Count;
}
