namespace Platform.Silo.Artifacts;

/// <summary>
/// Where artifacts live: files under the data directory with SQLite metadata for one silo, PostgreSQL large objects
/// for a cluster (docs/artifacts.md). A PUT is visible whole or not at all, and only once it is durable.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Creates what the store needs and removes what an interrupted upload left behind; runs once at start.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="body"/> under <paramref name="name"/>, replacing an artifact of that name atomically; refuses
    /// (<see cref="ArtifactException"/>, nothing stored) a body over <paramref name="maxSize"/> or whose SHA-256 is not
    /// <paramref name="expectedSha256"/> (lower-case hex; null: not checked).
    /// </summary>
    Task<ArtifactInfo> PutAsync(string name, Stream body, long maxSize, string? expectedSha256, CancellationToken cancellationToken);

    /// <summary>Opens the artifact for reading; null when there is none of that name.</summary>
    Task<ArtifactContent?> OpenAsync(string name, CancellationToken cancellationToken);

    /// <summary>Artifacts whose names start with <paramref name="prefix"/>, by name.</summary>
    Task<IReadOnlyList<ArtifactInfo>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes the artifact; false when there was none of that name.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}
