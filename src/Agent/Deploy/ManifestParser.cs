using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Platform.Agent.Deploy;

/// <summary>
/// Reads a Stretcher manifest: template expansion first (<see cref="ManifestTemplate"/>), then YAML. Every error names the
/// field and what was expected; keys Stretcher does not know are warnings, since Stretcher ignores them.
/// </summary>
public static class ManifestParser
{
    private static readonly string[] s_knownKeys = ["src", "checksum", "dest", "dest_mode", "commands", "excludes", "exclude_from", "sync_strategy"];
    private static readonly string[] s_phases = ["pre", "post", "success", "failure"];

    /// <summary>Parses <paramref name="text"/>; <paramref name="warnings"/> gets one line per ignored key.</summary>
    public static StretchManifest Parse(string text, Func<string, string?> environment, IList<string>? warnings = null)
    {
        var expanded = ManifestTemplate.Expand(text, environment);
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(expanded));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            throw new DeployException($"manifest is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {Innermost(e).Message}");
        }
        catch (InvalidOperationException e)
        {
            // Some malformed documents (an unclosed flow list at the end) surface here rather than as a YamlException.
            var at = parser.Current?.End ?? Mark.Empty;
            throw new DeployException($"manifest is not valid YAML at line {at.Line}, column {at.Column}: the document ends inside a structure ({e.Message})");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return new StretchManifest();
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new DeployException($"manifest: expected a mapping of src, dest, commands… at line {stream.Documents[0].RootNode.Start.Line}, got {Describe(stream.Documents[0].RootNode)}");

        var manifest = new StretchManifest();
        var commands = new ManifestCommands();
        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            switch (key)
            {
                case "src": manifest = manifest with { Src = Scalar(value, key) }; break;
                case "checksum": manifest = manifest with { Checksum = Checksum(value) }; break;
                case "dest": manifest = manifest with { Dest = Scalar(value, key) }; break;
                case "dest_mode": manifest = manifest with { DestMode = Mode(value) }; break;
                case "excludes": manifest = manifest with { Excludes = Strings(value, key) }; break;
                case "exclude_from": manifest = manifest with { ExcludeFrom = ExcludeFrom(value) }; break;
                case "sync_strategy": manifest = manifest with { SyncStrategy = Strategy(value) }; break;
                case "commands": commands = Commands(value, warnings); break;
                default:
                    warnings?.Add($"manifest line {keyNode.Start.Line}: unknown key '{key}' ignored (known: {string.Join(", ", s_knownKeys)})");
                    break;
            }
        }
        manifest = manifest with { Commands = commands };
        if (!string.IsNullOrEmpty(manifest.Src) && string.IsNullOrEmpty(manifest.Dest))
            throw new DeployException("manifest: dest is required when src is set (the directory the archive is synced into)");
        if (string.IsNullOrEmpty(manifest.Src)) manifest = manifest with { Src = null };
        return manifest;
    }

    private static ManifestCommands Commands(YamlNode node, IList<string>? warnings)
    {
        if (IsNull(node)) return new ManifestCommands();
        if (node is not YamlMappingNode map)
            throw new DeployException($"manifest line {node.Start.Line}: commands: expected a mapping of pre, post, success, failure, got {Describe(node)}");
        var commands = new ManifestCommands();
        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            var field = "commands." + key;
            commands = key switch
            {
                "pre" => commands with { Pre = Strings(value, field) },
                "post" => commands with { Post = Strings(value, field) },
                "success" => commands with { Success = Strings(value, field) },
                "failure" => commands with { Failure = Strings(value, field) },
                _ => Warn(commands, warnings, $"manifest line {keyNode.Start.Line}: unknown key 'commands.{key}' ignored (known: {string.Join(", ", s_phases)})"),
            };
        }
        return commands;
    }

    private static ManifestCommands Warn(ManifestCommands commands, IList<string>? warnings, string warning)
    {
        warnings?.Add(warning);
        return commands;
    }

    private static string? Scalar(YamlNode node, string field)
    {
        if (IsNull(node)) return null;
        if (node is YamlScalarNode scalar) return scalar.Value;
        throw new DeployException($"manifest line {node.Start.Line}: {field}: expected a string, got {Describe(node)}");
    }

    private static IReadOnlyList<string> Strings(YamlNode node, string field)
    {
        if (IsNull(node)) return [];
        if (node is not YamlSequenceNode sequence)
            throw new DeployException($"manifest line {node.Start.Line}: {field}: expected a list of strings, got {Describe(node)}");
        var list = new List<string>(sequence.Children.Count);
        foreach (var item in sequence.Children)
        {
            if (item is not YamlScalarNode { Value: { } value } || IsNull(item))
                throw new DeployException($"manifest line {item.Start.Line}: {field}: expected a list of strings, got an item that is {Describe(item)}");
            list.Add(value);
        }
        return list;
    }

    private static string? Checksum(YamlNode node)
    {
        var value = Scalar(node, "checksum");
        if (string.IsNullOrEmpty(value)) return null;
        if (ChecksumAlgorithm.ForHexLength(value.Length) is null || !value.All(Uri.IsHexDigit))
            throw new DeployException($"manifest line {node.Start.Line}: checksum: expected a hex md5 (32), sha1 (40), sha256 (64) or sha512 (128) digest, got {value.Length} characters '{value}'");
        return value;
    }

    private static UnixFileMode Mode(YamlNode node)
    {
        var value = Scalar(node, "dest_mode");
        if (string.IsNullOrEmpty(value)) return StretchManifest.DefaultDestMode;
        // YAML 1.1, as Stretcher reads it: a leading 0 (or 0o) is octal, anything else decimal.
        int mode;
        var ok = value.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? TryOctal(value[2..], out mode)
            : value.Length > 1 && value[0] == '0' ? TryOctal(value[1..], out mode)
            : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out mode);
        if (!ok || mode is < 0 or > 0b111_111_111_111)
            throw new DeployException($"manifest line {node.Start.Line}: dest_mode: expected an octal file mode such as 0755, got '{value}'");
        return (UnixFileMode)mode;
    }

    private static bool TryOctal(string digits, out int value)
    {
        value = 0;
        if (digits.Length is 0 or > 5) return false;
        foreach (var c in digits)
        {
            if (c is < '0' or > '7') return false;
            value = (value * 8) + (c - '0');
        }
        return true;
    }

    private static string? ExcludeFrom(YamlNode node)
    {
        var value = Scalar(node, "exclude_from");
        if (string.IsNullOrEmpty(value)) return null;
        if (value.StartsWith('/') || value.Split('/').Contains(".."))
            throw new DeployException($"manifest line {node.Start.Line}: exclude_from: expected a path inside the archive (relative, without ..), got '{value}'");
        return value;
    }

    private static SyncStrategy Strategy(YamlNode node) => Scalar(node, "sync_strategy") switch
    {
        null or "" or "rsync" => SyncStrategy.Rsync,
        "mv" => SyncStrategy.Move,
        var other => throw new DeployException($"manifest line {node.Start.Line}: sync_strategy: expected rsync or mv, got '{other}'"),
    };

    private static bool IsNull(YamlNode node)
        => node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
