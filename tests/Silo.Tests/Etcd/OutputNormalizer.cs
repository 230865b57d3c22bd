using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// Makes two servers' etcdctl output comparable. Index numbers become relative to the store's index before the
/// sequence (<c>@0</c> is that index, <c>@1</c> the first change after it) — etcd 3.4 starts its store above 0 and
/// a silo need not. The same notation in a command's arguments (<c>--swap-with-index @1</c>) is turned into each
/// server's absolute number. Also: endpoints become <c>&lt;endpoint&gt;</c>, expiration times <c>&lt;time&gt;</c>,
/// a TTL still counting down (3600 or 3599) rounds up to a multiple of ten (<c>~3600</c>), and what names a
/// cluster member (its id, name and peer URLs, which a silo has none of) is masked.
/// Indexes are recognised by where etcdctl prints them; sequences keep digits out of values so that
/// <c>Compare failed ([one != two])</c> is never mistaken for indexes.
/// </summary>
public static partial class OutputNormalizer
{
    /// <summary>A server's output with indexes relative to <paramref name="baseIndex"/>.</summary>
    public static string Normalize(string text, long baseIndex)
    {
        string Rel(string digits) => "@" + (long.Parse(digits, CultureInfo.InvariantCulture) - baseIndex).ToString(CultureInfo.InvariantCulture);

        text = Endpoint().Replace(text, "<endpoint>");
        text = MemberId().Replace(text, "<member>");
        text = MemberNameAndPeers().Replace(text, "$1<masked>");
        text = InOrderKey().Replace(text, m => "/<" + Rel(m.Groups[1].Value) + ">");
        text = LabelledIndex().Replace(text, m => m.Groups[1].Value + Rel(m.Groups[2].Value));
        text = ErrorLine().Replace(text, line => Bracketed().Replace(line.Value, group => Number().Replace(group.Value, n => Rel(n.Value))));
        text = Expiration().Replace(text, "$1<time>$2");
        text = Ttl().Replace(text, m =>
        {
            var ttl = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            return ttl == 0 ? m.Value : m.Groups[1].Value + "~" + RoundTtl(ttl).ToString(CultureInfo.InvariantCulture);
        });
        return text;
    }

    /// <summary>A TTL counting down, rounded up to a multiple of ten: 3600 and 3591 both read 3600.</summary>
    public static long RoundTtl(long ttl) => (ttl + 9) / 10 * 10;

    /// <summary>
    /// An argument with every <c>&lt;@N&gt;</c> replaced by the in-order key name of index <paramref name="baseIndex"/> + N
    /// (20 digits) and every other <c>@N</c> by that index.
    /// </summary>
    public static string Absolute(string argument, long baseIndex)
    {
        long Abs(Match m) => baseIndex + long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        argument = RelativeInOrderKey().Replace(argument, m => Abs(m).ToString("D20", CultureInfo.InvariantCulture));
        return RelativeIndex().Replace(argument, m => Abs(m).ToString(CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"https?://(?:127\.0\.0\.1|localhost|\[::1\]):\d+|\b127\.0\.0\.1:\d+")]
    private static partial Regex Endpoint();

    // etcd's member ids are up to 16 hex digits, printed without leading zeros: "member d8c789e0cff9a973 is healthy",
    // "70ed0f8fbaa3e84: name=e4 ...".
    [GeneratedRegex(@"(?<=\bmember )[0-9a-f]{1,16}\b|\b[0-9a-f]{1,16}(?=: name=)")]
    private static partial Regex MemberId();

    [GeneratedRegex(@"\b(name=|peerURLs=)\S*")]
    private static partial Regex MemberNameAndPeers();

    // POST on a directory names the new key by the index, zero-padded to 20 digits.
    [GeneratedRegex(@"/(\d{20})(?!\d)")]
    private static partial Regex InOrderKey();

    [GeneratedRegex(@"(\b(?:Created-Index|Modified-Index|Index): |""(?:createdIndex|modifiedIndex|index)"":|\bETCD_WATCH_MODIFIED_INDEX=)(\d+)")]
    private static partial Regex LabelledIndex();

    // "Error:  101: Compare failed ([@1 != @2]) [@2]", "(the requested history has been cleared [@9/@1]) [@1009]".
    [GeneratedRegex(@"^Error:\s+\d+: .*$", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Bracketed();

    [GeneratedRegex(@"\b\d+\b")]
    private static partial Regex Number();

    [GeneratedRegex(@"(""expiration"":"")[^""]*("")")]
    private static partial Regex Expiration();

    [GeneratedRegex(@"(\bTTL: |""ttl"":)(\d+)")]
    private static partial Regex Ttl();

    [GeneratedRegex(@"@(-?\d+)")]
    private static partial Regex RelativeIndex();

    [GeneratedRegex(@"<@(-?\d+)>")]
    private static partial Regex RelativeInOrderKey();
}
