using Platform.Runtime;

namespace Platform.Grains.Deploys;

/// <summary>
/// Reads and records the deploy history: the recent deploys of every target (<see cref="IDeployIndexGrain"/>) and each
/// target's own last deploys (<see cref="IDeployTargetHistoryGrain"/>), found by part of the target through
/// <see cref="IDeployTargetsGrain"/>.
/// </summary>
public static class DeployHistory
{
    /// <summary>Targets read at once while searching.</summary>
    private const int Fanout = 16;

    /// <summary>Records a deploy's summary with its target and in the recent deploys (which tells the followers).</summary>
    public static Task Record(IGrainFactory grains, DeploySummary summary)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(summary);
        return Task.WhenAll(
            grains.GetGrain<IDeployTargetHistoryGrain>(summary.Target).Record(summary),
            grains.GetGrain<IDeployIndexGrain>("default").Record(summary));
    }

    /// <summary>
    /// The newest <paramref name="limit"/> deploys; with <paramref name="target"/>, those of every target whose description
    /// contains it, each target's last <see cref="DeploysOptions.HistoryPerTarget"/> kept however busy the others are.
    /// </summary>
    public static async Task<List<DeploySummary>> List(IGrainFactory grains, string? target, int limit)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var recent = await grains.GetGrain<IDeployIndexGrain>("default").List(target, limit);
        if (string.IsNullOrEmpty(target)) return recent;

        var targets = await grains.GetGrain<IDeployTargetsGrain>(DeployTargetsGrain.DefaultKey).Matching(target);
        // The exact description is read even when the directory no longer lists it (too many targets since).
        if (!targets.Exists(t => t.Target == target)) targets.Insert(0, new DeployTargetEntry(target, DateTimeOffset.MaxValue));
        var searched = targets.Select(t => t.Target).ToHashSet(StringComparer.Ordinal);
        var found = new Dictionary<string, DeploySummary>(StringComparer.Ordinal);
        // A recent deploy of a target the directory does not list (recorded before targets kept their own history) still shows.
        Merge(found, recent.Where(d => !searched.Contains(d.Target)).ToList());
        for (var i = 0; i < targets.Count; i += Fanout)
        {
            // Targets come most recently deployed first: once `limit` deploys are newer than a target's newest, the rest add nothing.
            if (found.Count >= limit && Oldest(found, limit) > targets[i].Newest) break;
            var lists = await Task.WhenAll(targets.Skip(i).Take(Fanout).Select(t => grains.GetGrain<IDeployTargetHistoryGrain>(t.Target).List(limit)));
            foreach (var list in lists) Merge(found, list);
        }
        return Newest(found.Values, limit);
    }

    private static void Merge(Dictionary<string, DeploySummary> found, List<DeploySummary> list)
    {
        foreach (var d in list)
            if (!found.TryGetValue(d.Id, out var had) || had.Revision < d.Revision) found[d.Id] = d;
    }

    private static List<DeploySummary> Newest(IEnumerable<DeploySummary> all, int limit)
    {
        var list = all.ToList();
        list.Sort((a, b) => DeploySummaries.Newer(a, b) ? -1 : DeploySummaries.Newer(b, a) ? 1 : 0);
        return list.Count > limit ? list.GetRange(0, limit) : list;
    }

    /// <summary>The start of the <paramref name="limit"/>-th newest deploy found.</summary>
    private static DateTimeOffset Oldest(Dictionary<string, DeploySummary> found, int limit) => Newest(found.Values, limit)[^1].Created;
}
