using System.Globalization;

namespace Platform.Cli;

/// <summary>Durations as Go's <c>time.ParseDuration</c> reads them (<c>15s</c>, <c>1m30s</c>, <c>500ms</c>), as Serf's <c>-timeout</c> takes them.</summary>
public static class GoDuration
{
    /// <summary>True and the duration when <paramref name="text"/> is a Go duration; a bare <c>0</c> is zero.</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s is "0") return true;
        if (s.IsEmpty) return false;
        decimal totalNs = 0;
        while (!s.IsEmpty)
        {
            var n = 0;
            while (n < s.Length && (char.IsAsciiDigit(s[n]) || s[n] == '.')) n++;
            if (n == 0 || !decimal.TryParse(s[..n], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)) return false;
            s = s[n..];
            var u = 0;
            while (u < s.Length && !char.IsAsciiDigit(s[u]) && s[u] != '.') u++;
            decimal unit = s[..u] switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => -1m,
            };
            if (unit < 0) return false;
            totalNs += value * unit;
            s = s[u..];
        }
        var ticks = totalNs / 100m;
        if (ticks > TimeSpan.MaxValue.Ticks) return false;
        duration = TimeSpan.FromTicks((long)ticks);
        if (negative) duration = -duration;
        return true;
    }
}
