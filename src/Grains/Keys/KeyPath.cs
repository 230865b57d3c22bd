using System.Globalization;
using System.Text;

namespace Platform.Grains.Keys;

/// <summary>
/// Keys of the keyspace: absolute, '/'-separated paths such as <c>/build/notify</c>; <c>/</c> is the root directory.
/// </summary>
/// <remarks>
/// etcd runs every key through Go's <c>path.Clean</c>, so <c>/a/../b</c>, <c>/a//b</c> and <c>/a/./b</c> silently
/// name other keys. Here they are rejected instead, so one key has exactly one spelling and bad input changes
/// nothing: a key may omit its leading slash and may end with one slash (both as in etcd), but no segment may be
/// empty, <c>.</c> or <c>..</c>, or hold a control character or an unpaired UTF-16 surrogate (which has no UTF-8
/// form). The rejection is error 210 (Invalid POST form), the code etcd gives a request path it cannot use
/// ("incorrect key prefix"), with a cause that names the input.
/// </remarks>
public static class KeyPath
{
    /// <summary>The root directory, which always exists and cannot be changed.</summary>
    public const string Root = "/";

    /// <summary>
    /// The most segments a key may have. The tree is walked recursively (listings, deletes, snapshots), so an
    /// unbounded depth would let one request exhaust the stack.
    /// </summary>
    public const int MaxSegments = 1024;

    /// <summary>Returns the normal form of <paramref name="raw"/> or throws error 210 naming it (with <paramref name="index"/>).</summary>
    public static string Normalize(string? raw, ulong index)
    {
        if (TryNormalize(raw, out var key, out var problem)) return key;
        throw new KeyException(KeyErrorCode.InvalidForm, problem, index);
    }

    /// <summary>
    /// Checks <paramref name="raw"/> and gives its normal form (leading slash, no trailing slash) or a problem that names it.
    /// Allocates nothing when the input is already normal.
    /// </summary>
    public static bool TryNormalize(string? raw, out string key, out string problem)
    {
        key = Root;
        problem = "";
        if (raw is null)
        {
            problem = "a key is required";
            return false;
        }
        if (raw.Length == 0 || raw == Root) return true;

        var start = raw[0] == '/' ? 1 : 0;
        var end = raw[^1] == '/' ? raw.Length - 1 : raw.Length;
        if (end <= start)
        {
            problem = $"invalid key {Quote(raw)}: empty segment at position {start}";
            return false;
        }

        var segmentStart = start;
        var segments = 0;
        for (var i = start; i <= end; i++)
        {
            var c = i < end ? raw[i] : '/';
            if (c == '/')
            {
                var length = i - segmentStart;
                if (length == 0)
                {
                    problem = $"invalid key {Quote(raw)}: empty segment at position {i}";
                    return false;
                }
                if (raw[segmentStart] == '.' && (length == 1 || (length == 2 && raw[segmentStart + 1] == '.')))
                {
                    problem = $"invalid key {Quote(raw)}: \"{raw.AsSpan(segmentStart, length)}\" segments are not allowed";
                    return false;
                }
                if (++segments > MaxSegments)
                {
                    problem = $"invalid key {Quote(raw)}: more than {MaxSegments} segments";
                    return false;
                }
                segmentStart = i + 1;
            }
            else if (char.IsControl(c))
            {
                problem = $"invalid key {Quote(raw)}: control character U+{(int)c:X4} at position {i}";
                return false;
            }
        }

        var surrogate = FindUnpairedSurrogate(raw.AsSpan(start, end - start));
        if (surrogate >= 0)
        {
            problem = $"invalid key {Quote(raw)}: unpaired surrogate U+{(int)raw[start + surrogate]:X4} at position {start + surrogate}";
            return false;
        }

        key = start == 1 && end == raw.Length ? raw : string.Concat(Root, raw.AsSpan(start, end - start));
        return true;
    }

    /// <summary>True when the key's last segment starts with '_': etcd leaves such keys out of directory listings.</summary>
    public static bool IsHidden(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash + 1 < key.Length && key[slash + 1] == '_';
    }

    /// <summary>The last segment of a normal key ("" for the root).</summary>
    public static string Name(string key) => key.Substring(key.LastIndexOf('/') + 1);

    /// <summary>The directory holding a normal key (the root for top-level keys and for the root itself).</summary>
    public static string Parent(string key)
    {
        var slash = key.LastIndexOf('/');
        return slash <= 0 ? Root : key.Substring(0, slash);
    }

    /// <summary>Joins a normal directory key and a child name.</summary>
    public static string Combine(string directory, string name) =>
        directory.Length == 1 ? string.Concat(Root, name) : string.Concat(directory, "/", name);

    /// <summary>True when normal key <paramref name="key"/> lies strictly below normal key <paramref name="ancestor"/>.</summary>
    public static bool IsBelow(string key, string ancestor)
    {
        if (ancestor.Length == 1) return key.Length > 1;
        return key.Length > ancestor.Length + 1 && key[ancestor.Length] == '/' && key.StartsWith(ancestor, StringComparison.Ordinal);
    }

    /// <summary>
    /// True when some segment of <paramref name="key"/> below <paramref name="ancestor"/> is hidden: a recursive
    /// watch on the ancestor does not see such a key (etcd's <c>isHidden</c> in <c>watcher_hub.go</c>).
    /// </summary>
    public static bool IsHiddenBelow(string key, string ancestor)
    {
        var rest = key.AsSpan(ancestor.Length == 1 ? 1 : ancestor.Length + 1);
        return rest.Length > 0 && (rest[0] == '_' || rest.IndexOf("/_", StringComparison.Ordinal) >= 0);
    }

    /// <summary>
    /// Orders keys as etcd's sorted listings do: Go compares strings bytewise in UTF-8, which differs from
    /// UTF-16 ordinal order only where a surrogate pair meets a character from U+E000 to U+FFFF.
    /// </summary>
    public static int Compare(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        var common = a.AsSpan().CommonPrefixLength(b);
        if (common == a.Length || common == b.Length) return a.Length - b.Length;
        int x = a[common], y = b[common];
        // Surrogates encode code points above U+FFFF, so in UTF-8 they sort after all of U+E000..U+FFFF.
        if (x >= 0xD800 && y >= 0xD800 && (x < 0xE000) != (y < 0xE000)) return x < 0xE000 ? 1 : -1;
        return x - y;
    }

    /// <summary>An ordinal-in-UTF-8 comparer over keys, see <see cref="Compare(string?, string?)"/>.</summary>
    public static IComparer<string> Comparer { get; } = Comparer<string>.Create(Compare);

    /// <summary>The position of the first unpaired UTF-16 surrogate in <paramref name="text"/>, or -1.</summary>
    public static int FindUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return -1;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }

    /// <summary>
    /// Quotes input for an error message: control characters and unpaired surrogates spelled out so the message
    /// stays one printable line, and long input cut short.
    /// </summary>
    public static string Quote(string raw)
    {
        const int Shown = 200;
        var length = Math.Min(raw.Length, Shown);
        var builder = new StringBuilder(length + 16).Append('"');
        for (var i = 0; i < length; i++)
        {
            var c = raw[i];
            if (c == '"' || c == '\\')
            {
                builder.Append('\\').Append(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < raw.Length && char.IsLowSurrogate(raw[i + 1]))
            {
                builder.Append(c).Append(raw[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        builder.Append('"');
        if (raw.Length > Shown) builder.Append("... (").Append(raw.Length).Append(" characters)");
        return builder.ToString();
    }
}
