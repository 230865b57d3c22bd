using System.Text.RegularExpressions;
using Platform.Grains.Nodes;

namespace Platform.Grains.Deploys;

/// <summary>
/// Resolves a deploy's target against the fleet when the deploy starts: the alive members named (all of them must be
/// alive) whose tags match every tag expression (Serf's unanchored regular expressions), sorted by name.
/// </summary>
public static class DeployTargets
{
    /// <summary>The nodes, or an error naming the target field.</summary>
    public static (List<string>? Nodes, string? Error) Resolve(DeployTarget target, IReadOnlyList<MemberEntry> members)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(members);
        if (!target.All && target.Nodes.Count == 0 && target.Tags.Count == 0)
            return (null, "target: expected nodes (names), tags (tag → regular expression) or all: true");
        if (target.All && (target.Nodes.Count != 0 || target.Tags.Count != 0))
            return (null, "target: all: true cannot be combined with nodes or tags");
        var tags = new List<(string Tag, Regex Expr)>(target.Tags.Count);
        foreach (var (tag, expr) in target.Tags)
        {
            try
            {
                tags.Add((tag, new Regex(expr, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100))));
            }
            catch (ArgumentException e)
            {
                return (null, $"target.tags.{tag}: '{expr}' is not a regular expression ({e.Message})");
            }
        }
        var byName = new Dictionary<string, NodeMember>(StringComparer.Ordinal);
        foreach (var entry in members) byName[entry.Member.Name] = entry.Member;
        foreach (var name in target.Nodes)
        {
            if (!byName.TryGetValue(name, out var member)) return (null, $"target.nodes: '{name}' is not a member of the fleet");
            if (member.Status != NodeStatus.Alive) return (null, $"target.nodes: '{name}' is {member.Status}; expected an alive node");
        }
        var chosen = new List<string>();
        var candidates = target.Nodes.Count != 0 ? target.Nodes.Distinct(StringComparer.Ordinal) : byName.Keys;
        foreach (var name in candidates)
        {
            var member = byName[name];
            if (member.Status != NodeStatus.Alive || !Matches(member.Tags, tags)) continue;
            chosen.Add(name);
        }
        if (chosen.Count == 0) return (null, $"target: {target.Describe()} matches no alive node");
        chosen.Sort(StringComparer.Ordinal);
        return (chosen, null);
    }

    private static bool Matches(IReadOnlyDictionary<string, string> nodeTags, List<(string Tag, Regex Expr)> filters)
    {
        foreach (var (tag, expr) in filters)
        {
            if (!nodeTags.TryGetValue(tag, out var value)) return false;
            try
            {
                if (!expr.IsMatch(value)) return false;
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }
        return true;
    }
}
