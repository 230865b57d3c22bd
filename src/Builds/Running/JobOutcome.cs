using Platform.Protocol;

namespace Platform.Builds.Running;

/// <summary>
/// The end of a job: its <see cref="State"/> (<see cref="JobState"/>), the step's exit status (null when it never ran or
/// was killed), the artifacts uploaded, and for a pipeline job the file's text or its file:line:column error.
/// </summary>
public sealed record JobOutcome(
    string State,
    int? ExitStatus,
    string? Error,
    IReadOnlyList<JobArtifact> Artifacts,
    PipelineAnswer? Pipeline = null);

/// <summary>
/// A pipeline job's answer: the file's path and text, or why it cannot run (file:line:column: reason), and the commit
/// checked out (the branch's head when the job named none), so every later job of the build builds that commit.
/// </summary>
public sealed record PipelineAnswer(string File, string? Yaml, string? Error, string? Commit = null);
