namespace Platform.Silo.Artifacts;

/// <summary>A request the store refuses, with the HTTP status it answers: 400 (bad name or checksum), 413 (too large), 507 (disk full).</summary>
public sealed class ArtifactException(int status, string message, Exception? inner = null) : Exception(message, inner)
{
    public int Status { get; } = status;
}
