namespace Platform.Silo.Endpoints.Consul;

/// <summary>Durations as Go's <c>time.ParseDuration</c> reads them (<c>300ms</c>, <c>10s</c>, <c>1h30m</c>, <c>1.5m</c>): Consul's <c>wait</c>.</summary>
internal static class GoDuration
{
    /// <summary>Parses <paramref name="text"/>; false for anything Go would refuse, or a duration beyond <see cref="TimeSpan"/>.</summary>
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

        decimal nanoseconds = 0;
        while (!s.IsEmpty)
        {
            // A number with an optional fraction: at least one digit on one side of the point.
            var length = 0;
            var digitCount = 0;
            decimal number = 0;
            while (length < s.Length && char.IsAsciiDigit(s[length]))
            {
                number = number * 10 + (s[length] - '0');
                if (number > 1e20m) return false;
                length++;
                digitCount++;
            }
            if (length < s.Length && s[length] == '.')
            {
                length++;
                decimal scale = 1;
                while (length < s.Length && char.IsAsciiDigit(s[length]))
                {
                    if (scale > 1e-20m)
                    {
                        scale /= 10;
                        number += (s[length] - '0') * scale;
                    }
                    length++;
                    digitCount++;
                }
            }
            if (digitCount == 0) return false;
            s = s[length..];

            var unit = 0;
            while (unit < s.Length && !char.IsAsciiDigit(s[unit]) && s[unit] != '.') unit++;
            decimal? scaleNs = s[..unit] switch
            {
                "ns" => 1m,
                "us" or "\u00b5s" or "\u03bcs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => null,
            };
            if (scaleNs is not { } perUnit) return false;
            nanoseconds += number * perUnit;
            if (nanoseconds > TimeSpan.MaxValue.Ticks * 100m) return false;
            s = s[unit..];
        }
        var ticks = (long)(nanoseconds / 100m);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }
}
