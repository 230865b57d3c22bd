using System.Reflection;
using System.Security.Cryptography;

namespace Platform.Silo.Dashboard;

/// <summary>
/// The dashboard's static files, read once from the assembly's embedded resources (<c>Dashboard/wwwroot</c>) with
/// their content type and ETag. Nothing is read from disk, so every silo serves the same files, offline.
/// </summary>
public sealed class DashboardFiles
{
    /// <summary>The logical name prefix the project gives the embedded files.</summary>
    public const string ResourcePrefix = "dashboard/";

    private readonly Dictionary<string, DashboardFile> _byPath = new(StringComparer.Ordinal);

    public DashboardFiles() : this(typeof(DashboardFiles).Assembly)
    {
    }

    public DashboardFiles(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            // The path as a browser asks for it: "/ui/app.js"; resource names use '/' or '\' depending on the build machine.
            var path = "/" + name[ResourcePrefix.Length..].Replace('\\', '/');
            _byPath[path] = new DashboardFile(path, bytes, ContentTypeOf(path), ETagOf(bytes));
        }
    }

    /// <summary>Every file's path, for tests and diagnostics.</summary>
    public IEnumerable<string> Paths => _byPath.Keys;

    /// <summary>The file at <paramref name="path"/> (<c>/index.html</c>, <c>/ui/app.js</c>), or null.</summary>
    public DashboardFile? Find(string path) => _byPath.GetValueOrDefault(path);

    /// <summary>The content type of a dashboard file from its extension; unknown ones are opaque bytes.</summary>
    public static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json; charset=utf-8",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>A strong ETag from the content: the same bytes give the same tag on every silo and every start.</summary>
    private static string ETagOf(byte[] bytes)
    {
        var hash = SHA256.HashData(bytes);
        return "\"" + Convert.ToBase64String(hash, 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "\"";
    }
}

/// <summary>One embedded file: its path, bytes, content type and ETag.</summary>
public sealed record DashboardFile(string Path, byte[] Content, string ContentType, string ETag);
