using static Platform.Silo.Tests.Support.GitCli;

namespace Platform.Silo.Tests.Builds;

/// <summary>A bare git repository for a real agent to check out: one commit on main holding a pipeline and its scripts.</summary>
internal static class BareRepository
{
    /// <summary>
    /// Makes <c>WORK/NAME.git</c> from <c>.platform/pipeline.yml</c> = <paramref name="pipeline"/> and the executable
    /// <paramref name="scripts"/> (path → text); answers its file:// URL and the commit.
    /// </summary>
    public static (string CloneUrl, string Commit) Create(string work, string name, string pipeline, IReadOnlyDictionary<string, string> scripts)
    {
        var source = Path.Combine(work, name + "-source");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"), pipeline);
        foreach (var (path, text) in scripts)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, path))!);
            File.WriteAllText(Path.Combine(source, path), text);
        }
        Git(source, "init", "--quiet", "--initial-branch=main");
        Git(source, "add", ".");
        foreach (var path in scripts.Keys) Git(source, "update-index", "--chmod=+x", path);
        Git(source, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "pipeline");
        var bare = Path.Combine(work, name + ".git");
        Git(work, "clone", "--quiet", "--bare", source, bare);
        return ("file://" + bare, Git(source, "rev-parse", "HEAD").Trim());
    }
}
