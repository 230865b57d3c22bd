using System.Text.RegularExpressions;

namespace Platform.Client;

/// <summary>A <c>key=regexp</c> filter on a node's tags, as <c>serf members -tag</c> and <c>serf query -tag</c> take it.</summary>
public sealed record TagFilter(string Key, string Pattern)
{
    /// <summary>The filter in its wire form, <c>key=regexp</c>.</summary>
    public override string ToString() => $"{Key}={Pattern}";

    /// <summary>
    /// Parses <c>key=regexp</c> (split at the first '='), checking that the regexp compiles; throws
    /// <see cref="FormatException"/> naming the input and what was expected.
    /// </summary>
    public static TagFilter Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0)
            throw new FormatException($"tag filter '{text}' is not valid; expected key=regexp, such as role=web.*");
        var key = text[..eq];
        var pattern = text[(eq + 1)..];
        CheckRegex(pattern, $"tag filter '{text}'");
        return new TagFilter(key, pattern);
    }

    /// <summary>Throws <see cref="FormatException"/> naming <paramref name="what"/> when <paramref name="pattern"/> does not compile.</summary>
    public static void CheckRegex(string pattern, string what)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{what}: the regexp '{pattern}' does not compile: {e.Message}");
        }
    }
}
