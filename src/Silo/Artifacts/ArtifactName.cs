using System.Text;

namespace Platform.Silo.Artifacts;

/// <summary>The rules for an artifact's name: path-like (<c>myrepo/42/dist/app.tar.gz</c>), at most 512 bytes of UTF-8.</summary>
public static class ArtifactName
{
    public const int MaxBytes = 512;

    /// <summary>Null when <paramref name="name"/> is a valid name; otherwise why it is not, naming it.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "artifact name is empty; expected a path such as 'myrepo/42/app.tar.gz'";
        var shown = Shown(name);
        if (Encoding.UTF8.GetByteCount(name) > MaxBytes) return $"artifact name '{shown}' is longer than {MaxBytes} bytes";
        foreach (var c in name)
        {
            if (char.IsControl(c)) return $"artifact name '{shown}' contains a control character; expected printable characters";
            if (c == '\\') return $"artifact name '{shown}' contains '\\'; separate segments with '/'";
        }
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0) return $"artifact name '{shown}' has an empty segment (a leading, trailing or doubled '/')";
            if (segment is "." or "..") return $"artifact name '{shown}' has a '{segment}' segment; expected plain names between '/'";
        }
        return null;
    }

    /// <summary>Null when <paramref name="prefix"/> may start names (empty lists everything); otherwise why not.</summary>
    public static string? PrefixProblem(string prefix)
    {
        if (Encoding.UTF8.GetByteCount(prefix) > MaxBytes) return $"prefix '{Shown(prefix)}' is longer than {MaxBytes} bytes";
        foreach (var c in prefix)
        {
            if (char.IsControl(c)) return $"prefix '{Shown(prefix)}' contains a control character";
        }
        return null;
    }

    /// <summary>The name as an error message may show it: control characters replaced, cut at 80 characters.</summary>
    private static string Shown(string name)
    {
        var cut = name.Length > 80 ? name[..80] + "…" : name;
        return string.Create(cut.Length, cut, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++) span[i] = char.IsControl(s[i]) ? '?' : s[i];
        });
    }
}
