using Platform.Builds.Pipelines;

namespace Platform.Builds.Running;

/// <summary>Reads a checkout's <c>.platform/pipeline.yml</c> and checks it against the files of that checkout.</summary>
public static class PipelineFile
{
    /// <summary>
    /// The pipeline of <paramref name="checkout"/> and its text. Throws <see cref="PipelineException"/> (file:line:column:
    /// reason) when the file is missing, does not parse, or a step's <c>run</c> is not a file of the checkout.
    /// </summary>
    public static (Pipeline Pipeline, string Yaml) Read(string checkout)
    {
        var path = Path.Combine(checkout, Pipeline.DefaultPath);
        if (!File.Exists(path))
            throw new PipelineException(Pipeline.DefaultPath, 0, 0, "the repository has no pipeline file at this commit; expected .platform/pipeline.yml with 'steps'");
        var yaml = File.ReadAllText(path);
        return (PipelineParser.Parse(yaml, Pipeline.DefaultPath, file => IsCheckoutFile(checkout, file)), yaml);
    }

    /// <summary>True when <paramref name="relative"/> is a regular file inside <paramref name="checkout"/> (a link leading out is not).</summary>
    public static bool IsCheckoutFile(string checkout, string relative)
    {
        var full = Path.GetFullPath(Path.Combine(checkout, relative));
        if (!File.Exists(full)) return false;
        var root = Path.GetFullPath(checkout);
        var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        return IsInside(root, target);
    }

    internal static bool IsInside(string root, string path)
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }
}
