using System.Text.Json.Serialization;

namespace Platform.Protocol;

// Build jobs over the agent connection (docs/builds.md, "Jobs on agents"). A job is known by its id and attempt:
// every frame about it carries both, so a frame for an attempt that was retried or cancelled meanwhile is told apart.

// ---- agent → silo ----

/// <summary>What this agent takes: <see cref="Slots"/> jobs at once, and the container engine it has (null: none; it takes no step with an image).</summary>
public sealed record JobCapacityFrame(
    [property: JsonPropertyName("slots")] int Slots,
    [property: JsonPropertyName("engine")] string? Engine) : AgentFrame;

/// <summary>The agent started the job (checked the repository out, or found it running already after a reconnect).</summary>
public sealed record JobStartedFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt) : AgentFrame;

/// <summary>
/// The answer of a pipeline job (<see cref="JobFrame.Step"/> null): the pipeline file's path and text at the commit, checked
/// against the checkout; <see cref="Error"/> (file:line:column: reason) when it does not parse or names a missing file.
/// <see cref="Commit"/> is the commit checked out: for a job frame without one, the branch's head the agent found, which the
/// build keeps so that its later jobs build that same commit (null from agents that do not send it).
/// </summary>
public sealed record JobPipelineFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("yaml")] string? Yaml,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("commit")] string? Commit = null) : AgentFrame;

/// <summary>
/// A chunk of the job's output (stdout and stderr interleaved as written): <see cref="Seq"/> counts chunks from 1 per attempt,
/// <see cref="Offset"/> is the byte offset of <see cref="Data"/> in the job's log. Resent until acknowledged.
/// </summary>
public sealed record JobLogFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("seq")] long Seq,
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("data")] byte[] Data) : AgentFrame;

/// <summary>
/// The job ended: <see cref="State"/> is passed, failed, canceled or timed_out; <see cref="ExitStatus"/> the process's
/// (null when it never ran); <see cref="LogLength"/> the log's total bytes; <see cref="Artifacts"/> what was uploaded.
/// Resent on every reconnect until the silo acknowledges it with <see cref="JobDoneAckFrame"/>.
/// </summary>
public sealed record JobDoneFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("exit_status")] int? ExitStatus,
    [property: JsonPropertyName("log_length")] long LogLength,
    [property: JsonPropertyName("artifacts")] IReadOnlyList<JobArtifact> Artifacts,
    [property: JsonPropertyName("error")] string? Error = null) : AgentFrame;

// ---- silo → agent ----

/// <summary>
/// Run a job: check <see cref="Repository"/> out at <see cref="Commit"/> and run step <see cref="Step"/> of its pipeline file,
/// or, when <see cref="Step"/> is null, only read the pipeline and answer <see cref="JobPipelineFrame"/>. The server never sends
/// a command: the step is read from the repository. A job the agent runs or ran already is not started again.
/// <see cref="CloneUrl"/> is where the repository is registered to be cloned from (null from silos that did not send it).
/// </summary>
public sealed record JobFrame(
    [property: JsonPropertyName("build_id")] string BuildId,
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("repository")] string Repository,
    [property: JsonPropertyName("commit")] string Commit,
    [property: JsonPropertyName("branch")] string Branch,
    [property: JsonPropertyName("step")] string? Step,
    [property: JsonPropertyName("env")] IReadOnlyDictionary<string, string> Env,
    [property: JsonPropertyName("cancel_grace_ms")] int CancelGraceMs,
    [property: JsonPropertyName("clone_url")] string? CloneUrl = null) : AgentFrame;

/// <summary>Cancel a job: SIGTERM to its process group, SIGKILL after the job's grace period; it ends canceled.</summary>
public sealed record JobCancelFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt) : AgentFrame;

/// <summary>Every log chunk of the job up to <see cref="Seq"/> is stored: the agent may forget them.</summary>
public sealed record JobLogAckFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("seq")] long Seq) : AgentFrame;

/// <summary>The job's end is stored: the agent may forget the job (it still refuses to run that attempt again).</summary>
public sealed record JobDoneAckFrame(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("attempt")] int Attempt) : AgentFrame;

/// <summary>An artifact a job uploaded (<c>PUT /v1/artifacts/{name}</c>): its name, size and SHA-256 (hex).</summary>
public sealed record JobArtifact(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256);
