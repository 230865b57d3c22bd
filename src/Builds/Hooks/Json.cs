using System.Text.Json;

namespace Platform.Builds.Hooks;

/// <summary>A field of a hook body that is missing or of the wrong type.</summary>
internal sealed class HookFieldException(string message) : Exception(message);

/// <summary>Reads fields of a hook body by path, failing with the dotted path of the field.</summary>
internal static class Json
{
    public static string String(JsonElement root, params string[] path) => StringAt(root, null, path);

    /// <summary>A string field below <paramref name="root"/>, which sits at <paramref name="at"/> in the body (for the error).</summary>
    public static string StringAt(JsonElement root, string? at, params string[] path)
    {
        var value = Walk(root, at, path);
        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
            throw new HookFieldException($"field '{Name(at, path)}' must be a non-empty string");
        return text;
    }

    public static string? OptionalString(JsonElement root, params string[] path)
    {
        var current = root;
        foreach (var part in path)
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return null;
        return current.ValueKind == JsonValueKind.String ? current.GetString() : null;
    }

    public static bool OptionalBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static JsonElement Array(JsonElement root, params string[] path)
    {
        var value = Walk(root, null, path);
        if (value.ValueKind != JsonValueKind.Array) throw new HookFieldException($"field '{Name(null, path)}' must be a list");
        return value;
    }

    public static JsonElement? OptionalObject(JsonElement root, string at, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) throw new HookFieldException($"field '{at}.{name}' must be an object or null");
        return value;
    }

    private static JsonElement Walk(JsonElement root, string? at, string[] path)
    {
        var current = root;
        for (var i = 0; i < path.Length; i++)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(path[i], out current))
                throw new HookFieldException($"field '{Name(at, path[..(i + 1)])}' is missing");
        }
        return current;
    }

    private static string Name(string? at, string[] path) => at is null ? string.Join('.', path) : $"{at}.{string.Join('.', path)}";
}
