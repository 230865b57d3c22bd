using System.Text.Json.Serialization;

namespace Platform.Client;

/// <summary>What <c>POST /v1/deploys</c> takes (docs/deploys.md, "HTTP API"): one of <see cref="ManifestUrl"/> and <see cref="Manifest"/>, a target and a strategy.</summary>
public sealed record DeployStart
{
    public string? ManifestUrl { get; init; }

    /// <summary>The manifest's YAML inline.</summary>
    public string? Manifest { get; init; }

    public DeployTargetSpec Target { get; init; } = new();

    public DeployStrategySpec? Strategy { get; init; }

    public DeployStretchSpec? Stretch { get; init; }

    public DeployNotifySpec? OnFinish { get; init; }
}

/// <summary>Stretcher's options for every node: download retries, the wait between them and a random delay (Go durations), a bandwidth limit (<c>"10M"</c>).</summary>
public sealed record DeployStretchSpec
{
    public int? Retry { get; init; }

    public string? RetryWait { get; init; }

    public string? RandomDelay { get; init; }

    public string? MaxBandwidth { get; init; }
}

/// <summary>Which nodes: names, tag → regular expression, or all.</summary>
public sealed record DeployTargetSpec
{
    public IReadOnlyList<string>? Nodes { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public bool? All { get; init; }
}

/// <summary>The rollout: batch sizes (<c>"2"</c>, <c>"25%"</c>; the last repeats), max parallel, failure threshold (<c>"1"</c>, <c>"10%"</c>), pause and node timeout (Go durations).</summary>
public sealed record DeployStrategySpec
{
    public IReadOnlyList<string>? Batch { get; init; }

    public int? MaxParallel { get; init; }

    public string? FailureThreshold { get; init; }

    public string? Pause { get; init; }

    public string? NodeTimeout { get; init; }
}

/// <summary>When the deploy ends: set <see cref="Key"/> and fire the user event <see cref="Event"/>.</summary>
public sealed record DeployNotifySpec(string? Key, string? Event);

/// <summary>A deploy: its status, progress and every node's run.</summary>
public sealed record DeployInfo(
    string Id,
    string Status,
    string Target,
    string? ManifestUrl,
    DateTimeOffset Created,
    DateTimeOffset? Finished,
    int Batch,
    int Batches,
    string? StopReason,
    DeployStrategyInfo Strategy,
    Dictionary<string, int> Counts,
    List<DeployNodeInfo> Nodes,
    DeployStretchInfo? Stretch = null);

/// <summary>Stretcher's options the deploy's nodes run with (absent: its defaults; <see cref="RetryWait"/> absent: 3 s).</summary>
public sealed record DeployStretchInfo(int Retry, string? RetryWait, string RandomDelay, long? MaxBandwidth);

/// <summary>The strategy as the deploy runs it.</summary>
public sealed record DeployStrategyInfo(List<string> Batch, int? MaxParallel, string FailureThreshold, string Pause, string NodeTimeout);

/// <summary>One node's run: batch (from 1), status, exit code, duration, the silo's reason when it decided, the output's tail.</summary>
public sealed record DeployNodeInfo(string Node, int Batch, string Status, int? ExitCode, long? DurationMs, DateTimeOffset? Started, DateTimeOffset? Finished, string? Reason, string OutputTail);

/// <summary>A deploy in the history.</summary>
public sealed record DeploySummaryInfo(string Id, string Target, string Status, DateTimeOffset Created, DateTimeOffset? Finished, Dictionary<string, int> Counts);

/// <summary>The JSON of the deploys API: snake_case.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DeployStart))]
[JsonSerializable(typeof(DeployInfo))]
[JsonSerializable(typeof(List<DeploySummaryInfo>))]
internal sealed partial class DeployJson : JsonSerializerContext;
