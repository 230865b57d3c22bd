namespace Platform.Agent.Deploy;

/// <summary>Stretcher's command-line options, with its defaults.</summary>
public sealed record StretchOptions
{
    /// <summary>Sleep a random time in [0, this) before starting, to spread a fleet's downloads (<c>-random-delay</c>, seconds).</summary>
    public TimeSpan RandomDelay { get; init; }

    /// <summary>How many times a failed download is tried again (<c>-retry</c>).</summary>
    public int Retry { get; init; }

    /// <summary>The wait before each retry (<c>-retry-wait</c>, seconds; Stretcher's default 3).</summary>
    public TimeSpan RetryWait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The longest the download may take, retries included (<c>-timeout</c>, seconds); null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The download's and the rsync copy's bandwidth limit in bytes per second (<c>-max-bandwidth</c>); null: none.</summary>
    public long? MaxBandwidth { get; init; }

    /// <summary>rsync's verbosity option (<c>-rsync-verbose</c>; default <c>-v</c>, empty for none).</summary>
    public string RsyncVerbose { get; init; } = "-v";

    /// <summary>
    /// A command (pre, post, success, failure, the rsync) stopped by a cancel or timeout gets SIGTERM to its process group,
    /// then SIGKILL after this long (the agent's <c>deploy_cancel_grace</c>).
    /// </summary>
    public TimeSpan CancelGrace { get; init; } = DefaultCancelGrace;

    public static readonly TimeSpan DefaultCancelGrace = TimeSpan.FromSeconds(5);

    /// <summary>Where <c>s3://</c> URLs are read from.</summary>
    public S3SourceOptions S3 { get; init; } = new();
}
