namespace Platform.Silo.Artifacts;

/// <summary>An artifact opened for reading: its metadata and a seekable stream of exactly its bytes, as they were when it was opened.</summary>
public sealed class ArtifactContent(ArtifactInfo info, Stream stream) : IAsyncDisposable
{
    public ArtifactInfo Info { get; } = info;

    /// <summary>Seekable, <see cref="Stream.Length"/> = <see cref="ArtifactInfo.Size"/>; a replace or delete after opening does not change what it reads.</summary>
    public Stream Stream { get; } = stream;

    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}
