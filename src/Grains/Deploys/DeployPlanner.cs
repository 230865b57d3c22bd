namespace Platform.Grains.Deploys;

/// <summary>Splits a deploy's nodes into batches by the strategy's ramp: each size in turn, the last one repeating.</summary>
public static class DeployPlanner
{
    /// <summary>The batches of <paramref name="nodes"/> (kept in their order); every node is in exactly one.</summary>
    public static List<List<string>> Plan(IReadOnlyList<string> nodes, DeployStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(strategy);
        var batches = new List<List<string>>();
        var next = 0;
        var step = 0;
        while (next < nodes.Count)
        {
            var size = strategy.Batches.Count == 0 ? nodes.Count : strategy.Batches[Math.Min(step, strategy.Batches.Count - 1)].Resolve(nodes.Count);
            size = Math.Clamp(size, 1, nodes.Count - next);
            var batch = new List<string>(size);
            for (var i = 0; i < size; i++) batch.Add(nodes[next + i]);
            batches.Add(batch);
            next += size;
            step++;
        }
        return batches;
    }
}
