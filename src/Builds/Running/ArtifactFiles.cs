namespace Platform.Builds.Running;

/// <summary>
/// The files of a checkout that a step's <c>artifacts</c> patterns name: <c>*</c> matches within one path segment,
/// <c>**</c> any number of segments. Only regular files inside the checkout count: a link leading out of it is skipped.
/// </summary>
public static class ArtifactFiles
{
    /// <summary>The relative paths (with '/') matching any of <paramref name="patterns"/>, each once, sorted.</summary>
    public static List<string> Match(string checkout, IReadOnlyList<string> patterns)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        if (patterns.Count == 0) return [];
        var root = Path.GetFullPath(checkout);
        foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == ".git" || relative.StartsWith(".git/", StringComparison.Ordinal)) continue;
            foreach (var pattern in patterns)
            {
                if (!Matches(pattern.Split('/'), 0, relative.Split('/'), 0)) continue;
                if (PipelineFile.IsCheckoutFile(root, relative)) found.Add(relative);
                break;
            }
        }
        return [.. found];
    }

    private static bool Matches(string[] pattern, int p, string[] path, int s)
    {
        if (p == pattern.Length) return s == path.Length;
        if (pattern[p] == "**")
        {
            for (var skip = s; skip <= path.Length; skip++)
                if (Matches(pattern, p + 1, path, skip)) return true;
            return false;
        }
        return s < path.Length && SegmentMatches(pattern[p], path[s]) && Matches(pattern, p + 1, path, s + 1);
    }

    // '*' within a segment, as Pipelines.Glob matches it across the whole string.
    private static bool SegmentMatches(string pattern, string segment) => Pipelines.Glob.Matches(pattern, segment);
}
