namespace Platform.Builds.Pipelines;

/// <summary>A pipeline that cannot run: names the file, the line and column, and what was expected.</summary>
public sealed class PipelineException(string file, int line, int column, string reason)
    : Exception(line > 0 ? $"{file}:{line}:{column}: {reason}" : $"{file}: {reason}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Reason { get; } = reason;
}
