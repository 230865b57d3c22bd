using System.Globalization;

namespace Platform.Nodes.Bench;

/// <summary>Exact percentiles of a set of latencies in milliseconds (samples are at most a few tens of thousands).</summary>
public sealed class Latencies
{
    private readonly double[] _sorted;

    public Latencies(IEnumerable<double> milliseconds)
    {
        _sorted = [.. milliseconds];
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;
    public double P50 => Percentile(0.50);
    public double P99 => Percentile(0.99);
    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    /// <summary>Nearest-rank percentile.</summary>
    public double Percentile(double q)
    {
        if (_sorted.Length == 0) return double.NaN;
        var rank = Math.Max(1, (int)Math.Ceiling(q * _sorted.Length));
        return _sorted[rank - 1];
    }

    public static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms >= 100 ? ms.ToString("N0", CultureInfo.InvariantCulture) : ms.ToString("0.0", CultureInfo.InvariantCulture);

    public override string ToString() => $"p50 {Ms(P50)} ms, p99 {Ms(P99)} ms, max {Ms(Max)} ms (n={Count})";
}
