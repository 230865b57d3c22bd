using System.Text.Json.Serialization;

namespace Platform.Protocol;

// Deploys over the agent connection (docs/deploys.md, "Frames"). Every frame names the deploy and the node, so a frame
// sent twice (a resend after a silo restart, a reconnect) is recognised and answered the same way.

// ---- silo → agent ----

/// <summary>
/// Run a Stretcher manifest: from <see cref="ManifestUrl"/> or the inline <see cref="Manifest"/> text (one of them), with
/// Stretcher's options <see cref="Stretch"/> (null: its defaults). The agent runs a deploy id once; a repeat of a finished
/// one is answered with its result again.
/// </summary>
public sealed record DeployFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("manifest_url")] string? ManifestUrl,
    [property: JsonPropertyName("manifest")] string? Manifest,
    [property: JsonPropertyName("timeout_ms")] long TimeoutMs,
    [property: JsonPropertyName("stretch"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DeployStretchOptions? Stretch = null) : AgentFrame;

/// <summary>
/// Stop deploy <see cref="DeployId"/> on <see cref="Node"/>: a run is stopped (its result says failed, "stopped"); a deploy the
/// node never started is recorded as stopped and never runs; a finished one's result is sent again. Resent until the node reports.
/// </summary>
public sealed record DeployCancelFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node) : AgentFrame;

/// <summary>The silo stored the result of <see cref="DeployId"/> on <see cref="Node"/>: the agent stops resending it.</summary>
public sealed record DeployResultAckFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node) : AgentFrame;

/// <summary>Every chunk of the node's log up to <see cref="Seq"/> is stored: the agent may forget them.</summary>
public sealed record DeployLogAckFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("seq")] long Seq) : AgentFrame;

// ---- agent → silo ----

/// <summary>
/// A chunk of the deploy's output: <see cref="Seq"/> counts chunks from 1 per (deploy, node), <see cref="Offset"/> is its byte
/// offset in the node's log, so a repeat is dropped. Resent until a <see cref="DeployLogAckFrame"/> covers it (as <c>job-log</c>).
/// </summary>
public sealed record DeployLogFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("data")] byte[] Data) : AgentFrame;

/// <summary>
/// How deploy <see cref="DeployId"/> ended on <see cref="Node"/>: <see cref="Status"/> is succeeded, failed or timed-out,
/// <see cref="ExitCode"/> Stretcher's (0 or 1), <see cref="OutputTail"/> the last 4 KiB of its log. Resent until acknowledged.
/// </summary>
public sealed record DeployResultFrame(
    [property: JsonPropertyName("deploy_id")] string DeployId,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("exit_code")] int ExitCode,
    [property: JsonPropertyName("duration_ms")] long DurationMs,
    [property: JsonPropertyName("output_tail")] string OutputTail) : AgentFrame;
