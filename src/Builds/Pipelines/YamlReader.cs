using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Platform.Builds.Pipelines;

/// <summary>Typed reads of YAML nodes that fail with the file, line and column of the node and what was expected.</summary>
internal sealed class YamlReader(string file)
{
    public PipelineException Error(YamlNode node, string reason) =>
        new(file, (int)node.Start.Line, (int)node.Start.Column, reason);

    public YamlMappingNode Mapping(YamlNode node, string what) =>
        node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping of keys to values");

    public YamlSequenceNode Sequence(YamlNode node, string what) =>
        node as YamlSequenceNode ?? throw Error(node, $"{what} must be a list");

    public string Scalar(YamlNode node, string what)
    {
        if (node is not YamlScalarNode { Value: { } value }) throw Error(node, $"{what} must be a single value, not a list or mapping");
        return value;
    }

    public string NonEmpty(YamlNode node, string what)
    {
        var value = Scalar(node, what);
        if (string.IsNullOrWhiteSpace(value)) throw Error(node, $"{what} must not be empty");
        return value;
    }

    public int Integer(YamlNode node, string what, int min, int max)
    {
        var text = Scalar(node, what);
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw Error(node, $"{what} is '{text}'; expected a whole number from {min} to {max}");
        return value;
    }

    /// <summary>A single value or a list of values, as <c>depends_on: build</c> and <c>depends_on: [build, lint]</c>.</summary>
    public List<(string Value, YamlNode Node)> OneOrMany(YamlNode node, string what)
    {
        if (node is YamlSequenceNode list)
            return [.. list.Children.Select(c => (NonEmpty(c, $"each entry of {what}"), c))];
        return [(NonEmpty(node, what), node)];
    }

    public Dictionary<string, string> StringMap(YamlNode node, string what)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Mapping(node, what).Children)
        {
            var key = NonEmpty(k, $"a key of {what}");
            map[key] = Scalar(v, $"{what}.{key}");
        }
        return map;
    }

    /// <summary>Reads a mapping, refusing any key not in <paramref name="known"/> with the list of those that are.</summary>
    public Dictionary<string, YamlNode> Keys(YamlMappingNode mapping, string what, IReadOnlyCollection<string> known, Func<string, string?>? explain = null)
    {
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in mapping.Children)
        {
            var key = NonEmpty(k, $"a key of {what}");
            if (!known.Contains(key))
                throw Error(k, explain?.Invoke(key) ?? $"unknown key '{key}' in {what}; expected one of: {string.Join(", ", known)}");
            if (!result.TryAdd(key, v)) throw Error(k, $"key '{key}' appears twice in {what}");
        }
        return result;
    }
}
