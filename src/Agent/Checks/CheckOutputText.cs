using System.Globalization;
using System.Text;

namespace Platform.Agent.Checks;

/// <summary>Consul's wording for output that was cut to the size limit.</summary>
internal static class CheckOutputText
{
    /// <summary>The note before the kept tail of a script's (or here, an HTTP body's) output: <c>Captured 4096 of 9000 bytes\n...\n</c>.</summary>
    public static string TailNote(int kept, long total)
        => string.Create(CultureInfo.InvariantCulture, $"Captured {kept} of {total} bytes\n...\n");

    /// <summary>
    /// A TTL report's note cut to <paramref name="maxBytes"/> as Consul does: the head is kept and
    /// <c> ... (captured 4096 of 9000 bytes)</c> follows it.
    /// </summary>
    public static string LimitHead(string output, int maxBytes)
    {
        var total = Encoding.UTF8.GetByteCount(output);
        if (total <= maxBytes) return output;
        // Cut on a character boundary at or below the byte limit.
        var chars = 0;
        var bytes = 0;
        while (chars < output.Length)
        {
            var width = char.IsHighSurrogate(output[chars]) && chars + 1 < output.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(output.AsSpan(chars, width));
            if (bytes + size > maxBytes) break;
            bytes += size;
            chars += width;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{output[..chars]} ... (captured {maxBytes} of {total} bytes)");
    }
}
