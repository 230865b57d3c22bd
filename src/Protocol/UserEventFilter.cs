using System.Text.RegularExpressions;

namespace Platform.Protocol;

/// <summary>
/// Consul's user-event filters over a fleet's nodes: <c>node</c> is a regexp on the node's name and <c>tag</c> is
/// <c>key=regexp</c> on the node's tags (a missing tag never matches); both unanchored, as Consul's. Agents skip events
/// that do not match them and hubs do not send them. Compile once per event with <see cref="TryCreate"/>.
/// </summary>
public sealed class UserEventFilter
{
    private static readonly TimeSpan s_matchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly Regex? _node;
    private readonly string? _tagKey;
    private readonly Regex? _tagValue;

    private UserEventFilter(Regex? node, string? tagKey, Regex? tagValue)
    {
        _node = node;
        _tagKey = tagKey;
        _tagValue = tagValue;
    }

    /// <summary>The filter of <paramref name="nodeFilter"/> and <paramref name="tagFilter"/> (null or empty: no filter, <paramref name="filter"/> null); false with a message naming the bad one.</summary>
    public static bool TryCreate(string? nodeFilter, string? tagFilter, out UserEventFilter? filter, out string? error)
    {
        filter = null;
        error = null;
        Regex? node = null, value = null;
        string? key = null;
        if (!string.IsNullOrEmpty(nodeFilter))
        {
            try
            {
                node = new Regex(nodeFilter, RegexOptions.CultureInvariant, s_matchTimeout);
            }
            catch (ArgumentException e)
            {
                error = $"Invalid node filter: '{nodeFilter}' is not a valid regular expression: {e.Message}";
                return false;
            }
        }
        if (!string.IsNullOrEmpty(tagFilter))
        {
            var equals = tagFilter.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"Invalid tag filter: '{tagFilter}'; expected key=regexp on the nodes' tags, such as role=web";
                return false;
            }
            key = tagFilter[..equals];
            try
            {
                value = new Regex(tagFilter[(equals + 1)..], RegexOptions.CultureInvariant, s_matchTimeout);
            }
            catch (ArgumentException e)
            {
                error = $"Invalid tag filter: '{tagFilter}': the value is not a valid regular expression: {e.Message}";
                return false;
            }
        }
        if (node is not null || key is not null) filter = new UserEventFilter(node, key, value);
        return true;
    }

    /// <summary>Whether node <paramref name="name"/> with <paramref name="tags"/> takes the event; a match that runs too long counts as no match.</summary>
    public bool Matches(string name, IReadOnlyDictionary<string, string> tags)
    {
        try
        {
            if (_node is not null && !_node.IsMatch(name)) return false;
            if (_tagKey is not null && (!tags.TryGetValue(_tagKey, out var value) || !_tagValue!.IsMatch(value))) return false;
            return true;
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
