using System.Globalization;
using System.Text;

namespace Platform.Protocol;

/// <summary>Go's duration text (<c>time.ParseDuration</c>, <c>Duration.String()</c>), as Serf's and Consul's files, flags and outputs write it: <c>10s</c>, <c>1m30s</c>, <c>500ms</c>.</summary>
public static class GoDuration
{
    /// <summary>Reads <paramref name="text"/> as Go's <c>time.ParseDuration</c> does; false for anything Go would refuse.</summary>
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
            var length = 0;
            var digits = 0;
            decimal number = 0;
            while (length < s.Length && char.IsAsciiDigit(s[length]))
            {
                number = number * 10 + (s[length] - '0');
                if (number > 1e20m) return false;
                length++;
                digits++;
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
                    digits++;
                }
            }
            if (digits == 0) return false;
            s = s[length..];

            var unit = 0;
            while (unit < s.Length && !char.IsAsciiDigit(s[unit]) && s[unit] != '.') unit++;
            decimal? perUnit = s[..unit] switch
            {
                "ns" => 1m,
                "us" or "\u00b5s" or "\u03bcs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => null,
            };
            if (perUnit is not { } scaleNs) return false;
            nanoseconds += number * scaleNs;
            if (nanoseconds > TimeSpan.MaxValue.Ticks * 100m) return false;
            s = s[unit..];
        }
        var ticks = (long)(nanoseconds / 100m);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>Writes <paramref name="duration"/> as Go's <c>Duration.String()</c>: <c>30s</c>, <c>1m30s</c>, <c>1h0m0s</c>, <c>1.5s</c>, <c>250ms</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero) return "0s";
        var sign = duration < TimeSpan.Zero ? "-" : "";
        var ticks = Math.Abs(duration.Ticks);
        if (ticks < TimeSpan.TicksPerSecond)
        {
            // Below a second Go picks the largest unit that keeps a whole part: ms, µs or ns.
            var ns = ticks * 100m;
            if (ns >= 1_000_000m) return sign + Fraction(ns / 1_000_000m) + "ms";
            if (ns >= 1_000m) return sign + Fraction(ns / 1_000m) + "\u00b5s";
            return sign + Fraction(ns) + "ns";
        }
        var text = new StringBuilder(sign);
        var hours = ticks / TimeSpan.TicksPerHour;
        var minutes = ticks % TimeSpan.TicksPerHour / TimeSpan.TicksPerMinute;
        var seconds = ticks % TimeSpan.TicksPerMinute / (decimal)TimeSpan.TicksPerSecond;
        if (hours > 0) text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        if (hours > 0 || minutes > 0) text.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        return text.Append(Fraction(seconds)).Append('s').ToString();
    }

    private static string Fraction(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
