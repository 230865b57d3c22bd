using System.Globalization;

namespace Platform.Agent.Deploy;

/// <summary>Reads sizes as Stretcher's <c>-max-bandwidth</c> does (go-humanize): <c>1048576</c>, <c>10M</c>, <c>10 MB</c> (10^6), <c>10MiB</c> (2^20).</summary>
public static class ByteSize
{
    /// <summary>Parses <paramref name="text"/> into bytes; false when it is not a size.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] is '.' or ',')) end++;
        if (end == 0 || !double.TryParse(s[..end].Replace(",", "", StringComparison.Ordinal), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
        double? unit = s[end..].Trim().ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kb" => 1e3,
            "ki" or "kib" => 1024,
            "m" or "mb" => 1e6,
            "mi" or "mib" => 1 << 20,
            "g" or "gb" => 1e9,
            "gi" or "gib" => 1 << 30,
            "t" or "tb" => 1e12,
            "ti" or "tib" => 1L << 40,
            _ => null,
        };
        if (unit is null) return false;
        var value = number * unit.Value;
        if (value is < 0 or > long.MaxValue) return false;
        bytes = (long)value;
        return true;
    }
}
