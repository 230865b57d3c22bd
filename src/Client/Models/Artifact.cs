namespace Platform.Client;

/// <summary>A stored artifact: its name, size in bytes, SHA-256 (lower-case hex) and when this version was stored.</summary>
public sealed record Artifact(string Name, long Size, string Sha256, DateTimeOffset Created);
