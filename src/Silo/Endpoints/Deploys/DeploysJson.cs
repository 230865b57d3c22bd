using System.Text.Json;
using Platform.Grains.Deploys;
using Platform.Protocol;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>The JSON of the deploys API (snake_case, as its request) and its error answer <c>{"error":"..."}</c>.</summary>
public static class DeploysJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static IResult Error(int status, string message) => TypedResults.Json(new DeployError(message), Options, statusCode: status);

    public static DeployResponse Render(DeployView d)
    {
        var s = d.Spec.Strategy;
        var nodes = new List<DeployNodeResponse>(d.Nodes.Count);
        foreach (var n in d.Nodes) nodes.Add(new DeployNodeResponse(n.Node, n.Batch, n.Status, n.ExitCode, n.DurationMs, n.Started, n.Finished, n.Reason, n.OutputTail));
        var batches = new List<string>(s.Batches.Count);
        foreach (var b in s.Batches) batches.Add(b.ToString());
        return new DeployResponse(d.Id, d.Status, d.Target, d.Spec.ManifestUrl, d.Spec.Manifest is null ? null : true, d.Created, d.Finished, d.CurrentBatch, d.BatchCount,
            d.StopReason, new StrategyResponse(batches, s.MaxParallel == 0 ? null : s.MaxParallel, s.FailureThreshold.ToString(), GoDuration.Format(s.Pause), GoDuration.Format(s.NodeTimeout)),
            Counts(d.Nodes), nodes, Stretch(d.Spec.Stretch));
    }

    private static StretchResponse? Stretch(DeployStretchOptions? o) => o is null ? null : new StretchResponse(
        o.Retry,
        o.RetryWaitMs is { } wait ? GoDuration.Format(TimeSpan.FromMilliseconds(wait)) : null,
        GoDuration.Format(TimeSpan.FromMilliseconds(o.RandomDelayMs)),
        o.MaxBandwidth);

    private static Dictionary<string, int> Counts(List<DeployNodeView> nodes)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in nodes) counts[n.Status] = counts.GetValueOrDefault(n.Status) + 1;
        return counts;
    }
}

/// <summary>Every error of the deploys API.</summary>
public sealed record DeployError(string Error);

/// <summary>A deploy: its request (strategy as given), progress, and every node's run.</summary>
public sealed record DeployResponse(
    string Id,
    string Status,
    string Target,
    string? ManifestUrl,
    bool? InlineManifest,
    DateTimeOffset Created,
    DateTimeOffset? Finished,
    int Batch,
    int Batches,
    string? StopReason,
    StrategyResponse Strategy,
    Dictionary<string, int> Counts,
    List<DeployNodeResponse> Nodes,
    StretchResponse? Stretch);

/// <summary>Stretcher's options as asked (absent: its defaults); <c>retry_wait</c> absent: 3 s.</summary>
public sealed record StretchResponse(int Retry, string? RetryWait, string RandomDelay, long? MaxBandwidth);

/// <summary>The strategy as it runs: batch sizes (the last repeats), max parallel (null: the whole batch), threshold, pause, node timeout.</summary>
public sealed record StrategyResponse(List<string> Batch, int? MaxParallel, string FailureThreshold, string Pause, string NodeTimeout);

/// <summary>One node's run: batch (from 1), status, exit code, duration, the reason the silo decided it (lost, skipped…), the output's tail.</summary>
public sealed record DeployNodeResponse(string Node, int Batch, string Status, int? ExitCode, long? DurationMs, DateTimeOffset? Started, DateTimeOffset? Finished, string? Reason, string OutputTail);
