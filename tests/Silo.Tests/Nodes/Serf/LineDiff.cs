using System.Text;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>A line diff (longest common subsequence) shown as unified hunks with three lines of context.</summary>
public static class LineDiff
{
    private const int Context = 3;

    /// <summary>Null when both are equal; otherwise the differing hunks, <c>-</c> for <paramref name="expectedName"/>'s lines and <c>+</c> for <paramref name="actualName"/>'s.</summary>
    public static string? Unified(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string expectedName, string actualName)
    {
        var ops = Operations(expected, actual);
        if (ops.All(o => o.Kind == ' ')) return null;
        var text = new StringBuilder($"--- {expectedName}\n+++ {actualName}\n");
        var lastShown = -1;
        for (var i = 0; i < ops.Count; i++)
        {
            var near = false;
            for (var j = Math.Max(0, i - Context); j <= Math.Min(ops.Count - 1, i + Context) && !near; j++) near = ops[j].Kind != ' ';
            if (!near) continue;
            if (lastShown >= 0 && i > lastShown + 1) text.Append("  ...\n");
            text.Append(ops[i].Kind).Append(' ').Append(ops[i].Line).Append('\n');
            lastShown = i;
        }
        return text.ToString();
    }

    private static List<(char Kind, string Line)> Operations(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        // lcs[i, j]: length of the longest common subsequence of a[i..] and b[j..].
        var lcs = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
            for (var j = b.Count - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var ops = new List<(char, string)>();
        int x = 0, y = 0;
        while (x < a.Count || y < b.Count)
        {
            if (x < a.Count && y < b.Count && a[x] == b[y]) { ops.Add((' ', a[x])); x++; y++; }
            else if (y < b.Count && (x == a.Count || lcs[x, y + 1] >= lcs[x + 1, y])) { ops.Add(('+', b[y])); y++; }
            else { ops.Add(('-', a[x])); x++; }
        }
        return ops;
    }
}
