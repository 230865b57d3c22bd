namespace Platform.Agent.Deploy;

/// <summary>A Stretcher manifest (docs/deploys.md): where the archive is, how it is checked and synced, and the commands around it.</summary>
public sealed record StretchManifest
{
    /// <summary>Stretcher's default mode for the synced directory.</summary>
    public const UnixFileMode DefaultDestMode = (UnixFileMode)0b111_101_101; // 0755

    /// <summary>The archive's URL (http, https, file, s3); null runs only the commands.</summary>
    public string? Src { get; init; }

    /// <summary>Hex digest of the archive; its length picks the algorithm. Null: not checked.</summary>
    public string? Checksum { get; init; }

    /// <summary>The directory the archive's contents end up in; required with <see cref="Src"/>.</summary>
    public string? Dest { get; init; }

    /// <summary>Mode of <see cref="Dest"/> itself after the sync.</summary>
    public UnixFileMode DestMode { get; init; } = DefaultDestMode;

    /// <summary>The pre, post, success and failure command lines.</summary>
    public ManifestCommands Commands { get; init; } = new();

    /// <summary>rsync <c>--exclude</c> patterns.</summary>
    public IReadOnlyList<string> Excludes { get; init; } = [];

    /// <summary>A file inside the archive given to rsync's <c>--exclude-from</c>.</summary>
    public string? ExcludeFrom { get; init; }

    /// <summary>How the extracted tree reaches <see cref="Dest"/>.</summary>
    public SyncStrategy SyncStrategy { get; init; } = SyncStrategy.Rsync;
}

/// <summary>The four command phases of a manifest; each line runs with <c>sh -c</c>.</summary>
public sealed record ManifestCommands
{
    /// <summary>Run after the download and checksum, before extraction.</summary>
    public IReadOnlyList<string> Pre { get; init; } = [];

    /// <summary>Run after the sync.</summary>
    public IReadOnlyList<string> Post { get; init; } = [];

    /// <summary>Run when the deploy succeeded, with its log on standard input; a failing one is only logged.</summary>
    public IReadOnlyList<string> Success { get; init; } = [];

    /// <summary>Run when the deploy failed, with its log on standard input.</summary>
    public IReadOnlyList<string> Failure { get; init; } = [];
}

/// <summary><c>sync_strategy</c>: rsync into place, or rename the extracted directory to <c>dest</c>.</summary>
public enum SyncStrategy
{
    /// <summary><c>rsync -a --delete</c> with the excludes (the default).</summary>
    Rsync,

    /// <summary>Rename the extracted directory to <c>dest</c>; fails when <c>dest</c> exists and is not empty.</summary>
    Move,
}
