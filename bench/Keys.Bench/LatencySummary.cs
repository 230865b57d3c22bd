namespace Platform.Keys.Bench;

public static class LatencySummary
{
    /// <summary>The histogram's percentiles, none above the exact maximum (a bucket's midpoint can be).</summary>
    public static Percentiles Measured(this LatencyHistogram h)
    {
        var s = h.Summary();
        return s with { P50 = Math.Min(s.P50, s.Max), P99 = Math.Min(s.P99, s.Max), P999 = Math.Min(s.P999, s.Max) };
    }
}
