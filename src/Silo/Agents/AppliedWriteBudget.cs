namespace Platform.Silo.Agents;

/// <summary>
/// How many applied marks one heartbeat scan may write to node grains, and at which connection it starts. A user event
/// moves every agent's mark at once: written as they came due, 10,000 agents were 10,000 node writes in one scan, a
/// burst that held back the next fan-out. Spread at a fixed rate and taken round-robin, every mark is still written,
/// later on a large silo.
/// </summary>
internal sealed class AppliedWriteBudget(int perSecond)
{
    private readonly Lock _lock = new();
    private long _lastScan;
    private int _cursor;

    /// <summary>Marks a scan at <paramref name="now"/> (ms) may write: the rate over the time since the last scan, at least 1, at most a tenth of a second's worth (a late scan does not write a burst).</summary>
    public int Take(long now)
    {
        lock (_lock)
        {
            var elapsed = _lastScan == 0 ? 0 : Math.Max(0, now - _lastScan);
            _lastScan = now;
            return (int)Math.Clamp(perSecond * elapsed / 1000, 1, Math.Max(1, perSecond / 10));
        }
    }

    /// <summary>Where a scan over <paramref name="count"/> connections starts: after the last one the previous scan wrote when its budget ran out.</summary>
    public int Start(int count)
    {
        lock (_lock) return count == 0 ? 0 : _cursor % count;
    }

    /// <summary>The next scan starts at <paramref name="index"/>.</summary>
    public void ResumeAt(int index)
    {
        lock (_lock) _cursor = Math.Max(0, index);
    }
}
