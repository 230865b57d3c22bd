using System.Text.Json;

namespace Platform.Agent.Configuration;

/// <summary>Serf's tags file: a JSON object of tags, read on start and rewritten whenever the tags change.</summary>
public static class TagsFile
{
    /// <summary>The tags kept in <paramref name="path"/>; none when the file does not exist yet.</summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        if (!File.Exists(path)) return new Dictionary<string, string>();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))
                ?? throw new ConfigException($"tags_file '{path}': holds null; expected a JSON object of string tags");
        }
        catch (JsonException e)
        {
            throw new ConfigException($"tags_file '{path}': expected a JSON object of string tags: {e.Message}");
        }
        catch (IOException e)
        {
            throw new ConfigException($"tags_file '{path}': cannot be read: {e.Message}");
        }
    }

    /// <summary>Writes the tags (indented, mode 0600 as Serf) through a temporary file and a rename, so a crash leaves the old or the new tags.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, string> tags)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(tags, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(path, bytes);
    }
}
