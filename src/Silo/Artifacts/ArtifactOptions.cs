namespace Platform.Silo.Artifacts;

/// <summary>The artifact store's settings (section "Platform:Artifacts"; docs/artifacts.md).</summary>
public sealed class ArtifactOptions
{
    public const string Section = "Platform:Artifacts";

    /// <summary>The largest artifact a PUT may store, in bytes; a larger one is refused with 413. Default 2 GiB.</summary>
    public long MaxSize { get; set; } = 2L << 30;

    /// <summary>Where the SQLite silo keeps artifact files. Default: "artifacts" under the data directory.</summary>
    public string? Directory { get; set; }

    /// <summary>Bytes moved per read, write and PostgreSQL round trip. Default 1 MiB.</summary>
    public int ChunkSize { get; set; } = 1 << 20;
}
