namespace Platform.Builds.Pipelines;

/// <summary>
/// Buildkite's <c>branches</c>: space-separated patterns where <c>*</c> matches any run of characters (slashes too) and a
/// leading <c>!</c> excludes. A branch passes when no exclusion matches it and, if there are inclusions, one of them does.
/// </summary>
public sealed class BranchFilter
{
    public static readonly BranchFilter All = new([], []);

    private readonly string[] _include;
    private readonly string[] _exclude;

    private BranchFilter(string[] include, string[] exclude)
    {
        _include = include;
        _exclude = exclude;
    }

    /// <summary>The patterns as written.</summary>
    public string Text => string.Join(' ', _include.Concat(_exclude.Select(e => "!" + e)));

    public static BranchFilter Parse(string text)
    {
        var include = new List<string>();
        var exclude = new List<string>();
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part[0] == '!')
            {
                if (part.Length == 1) throw new FormatException("'!' must be followed by a branch pattern");
                exclude.Add(part[1..]);
            }
            else include.Add(part);
        }
        return new BranchFilter([.. include], [.. exclude]);
    }

    public bool Matches(string branch)
    {
        foreach (var pattern in _exclude)
            if (Glob.Matches(pattern, branch)) return false;
        if (_include.Length == 0) return true;
        foreach (var pattern in _include)
            if (Glob.Matches(pattern, branch)) return true;
        return false;
    }
}

/// <summary><c>*</c>-only wildcard matching, as Buildkite's branch and agent tag patterns use.</summary>
public static class Glob
{
    public static bool Matches(string pattern, string value)
    {
        // Iterative match with backtracking to the last '*': linear in practice, no regex to compile.
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (p < pattern.Length && pattern[p] == value[v])
            {
                p++;
                v++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
