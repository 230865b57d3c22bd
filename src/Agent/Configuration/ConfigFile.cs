using System.Text.Json;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Configuration;

/// <summary>Reads Serf-style JSON configuration files and folders (<c>-config-file</c>, <c>-config-dir</c>).</summary>
public static partial class ConfigFile
{
    /// <summary>Reads one file; throws <see cref="ConfigException"/> naming the file, the key and what was expected.</summary>
    public static AgentConfig Read(string path, ILogger? logger = null)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"config file '{path}': cannot be read: {e.Message}");
        }
        return Parse(text, path, logger);
    }

    /// <summary>Reads every <c>*.json</c> file of a folder (not its subfolders) in lexical order, merged as Serf merges them.</summary>
    public static AgentConfig ReadDirectory(string path, ILogger? logger = null)
    {
        if (!Directory.Exists(path)) throw new ConfigException($"config dir '{path}': no such directory");
        var files = Directory.GetFiles(path, "*.json", SearchOption.TopDirectoryOnly);
        Array.Sort(files, StringComparer.Ordinal);
        var result = new AgentConfig();
        foreach (var file in files)
            if (file.EndsWith(".json", StringComparison.Ordinal)) result = AgentConfig.Merge(result, Read(file, logger));
        return result;
    }

    /// <summary>Parses the text of one file; <paramref name="source"/> names it in errors.</summary>
    public static AgentConfig Parse(string json, string source, ILogger? logger = null)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw new ConfigException($"config file '{source}': not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException($"config file '{source}': expected a JSON object of configuration keys, got {Kind(document.RootElement)}");
            var config = new AgentConfig();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (ConfigKeys.Supported.TryGetValue(property.Name, out var used))
                {
                    var value = Convert(property, used.Kind, source);
                    used.Set(config, value);
                    var from = $"config file '{source}'";
                    config.Sources[property.Name] = from;
                    if (value is List<string> entries)
                        foreach (var entry in entries) config.Sources[$"{property.Name}:{entry}"] = from;
                }
                else if (ConfigKeys.Ignored.TryGetValue(property.Name, out var kind))
                {
                    Convert(property, kind, source);
                    if (logger is not null) LogIgnoredKey(logger, source, property.Name);
                }
                else
                {
                    throw new ConfigException(
                        $"config file '{source}': unknown key '{property.Name}'; expected a Serf agent key or one of Platform's (docs/agent.md lists them)");
                }
            }
            return config;
        }
    }

    private static object Convert(JsonProperty property, ConfigKind kind, string source)
    {
        var value = property.Value;
        ConfigException Wrong() => new(
            $"config file '{source}': key '{property.Name}' must be {ConfigKeys.Describe(kind)}, got {Kind(value)}");
        switch (kind)
        {
            case ConfigKind.String:
                return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Wrong();
            case ConfigKind.Bool:
                return value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Wrong() };
            case ConfigKind.Int:
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : throw Wrong();
            case ConfigKind.Duration:
                if (value.ValueKind != JsonValueKind.String) throw Wrong();
                var text = value.GetString()!;
                // Go reads "-3s"; no agent setting is a negative time.
                return GoDuration.TryParse(text, out var duration) && duration >= TimeSpan.Zero
                    ? duration
                    : throw new ConfigException(
                        $"config file '{source}': key '{property.Name}' is \"{text}\"; expected {ConfigKeys.Describe(kind)}");
            case ConfigKind.StringList:
                if (value.ValueKind != JsonValueKind.Array) throw Wrong();
                var list = new List<string>();
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        throw new ConfigException(
                            $"config file '{source}': key '{property.Name}' must be {ConfigKeys.Describe(kind)}, got an array holding {Kind(item)}");
                    list.Add(item.GetString()!);
                }
                return list;
            case ConfigKind.StringMap:
                if (value.ValueKind != JsonValueKind.Object) throw Wrong();
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var entry in value.EnumerateObject())
                {
                    if (entry.Value.ValueKind != JsonValueKind.String)
                        throw new ConfigException(
                            $"config file '{source}': key '{property.Name}.{entry.Name}' must be a string, got {Kind(entry.Value)}");
                    map[entry.Name] = entry.Value.GetString()!;
                }
                return map;
            case ConfigKind.Json:
                return value.Clone();
            default:
                throw new InvalidOperationException($"config kind {kind} has no reader");
        }
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString(),
    };
}
