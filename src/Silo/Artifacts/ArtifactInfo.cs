namespace Platform.Silo.Artifacts;

/// <summary>What is known of one stored artifact: the answer to a PUT and an entry of a list.</summary>
public sealed record ArtifactInfo(string Name, long Size, string Sha256, DateTimeOffset Created);
