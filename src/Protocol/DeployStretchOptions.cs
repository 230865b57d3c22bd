using System.Text.Json.Serialization;

namespace Platform.Protocol;

/// <summary>
/// Stretcher's options for one cluster deploy (docs/deploys.md, "Stretcher's options"), as <c>platform stretch</c>'s flags of
/// the same names: download retries and the wait between them, a random delay before the node starts, and a bandwidth
/// limit for the download and the rsync copy. Carried by the deploy's request, its stored state and each <c>deploy</c> frame.
/// </summary>
public sealed record DeployStretchOptions
{
    /// <summary>How many times a failed download of <c>src</c> is tried again (<c>-retry</c>).</summary>
    [JsonPropertyName("retry")]
    public int Retry { get; init; }

    /// <summary>The wait before each retry in milliseconds (<c>-retry-wait</c>); null: Stretcher's 3 s.</summary>
    [JsonPropertyName("retry_wait_ms")]
    public long? RetryWaitMs { get; init; }

    /// <summary>The node sleeps a random time in [0, this) milliseconds before it starts (<c>-random-delay</c>).</summary>
    [JsonPropertyName("random_delay_ms")]
    public long RandomDelayMs { get; init; }

    /// <summary>Bytes per second for the download and the rsync copy (<c>-max-bandwidth</c>); null: no limit.</summary>
    [JsonPropertyName("max_bandwidth")]
    public long? MaxBandwidth { get; init; }
}
