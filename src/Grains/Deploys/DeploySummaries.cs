namespace Platform.Grains.Deploys;

/// <summary>A bounded list of deploy summaries, newest first: the one rule the history's grains share.</summary>
public static class DeploySummaries
{
    /// <summary>
    /// Puts <paramref name="summary"/> in <paramref name="list"/>: in place of the same deploy's older summary, else where
    /// its start time ranks it; then drops what is past <paramref name="kept"/>. False when nothing changed (an older
    /// revision, or a deploy too old to be kept).
    /// </summary>
    public static bool Put(List<DeploySummary> list, DeploySummary summary, int kept)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(summary);
        var at = list.FindIndex(d => d.Id == summary.Id);
        if (at >= 0)
        {
            if (list[at].Revision > summary.Revision) return false;
            list[at] = summary;
            return true;
        }
        // By start time, not arrival: a long deploy's late summary must not jump ahead of those started after it.
        var position = list.FindIndex(d => Newer(summary, d));
        if (position < 0) position = list.Count;
        if (position >= kept) return false;
        list.Insert(position, summary);
        if (list.Count > kept) list.RemoveRange(kept, list.Count - kept);
        return true;
    }

    /// <summary>True when <paramref name="a"/> comes before <paramref name="b"/> newest first (ids break a tie: they start with the time).</summary>
    public static bool Newer(DeploySummary a, DeploySummary b)
        => a.Created != b.Created ? a.Created > b.Created : string.CompareOrdinal(a.Id, b.Id) > 0;
}
