namespace Platform.Builds.Running;

/// <summary>
/// One job to run: the repository checked out at <see cref="Commit"/>, then step <see cref="Step"/> of its pipeline
/// (null: only read the pipeline). <see cref="Env"/> is the build's own; the step's and the pipeline's come from the file.
/// <see cref="CloneUrl"/>, when set, is where the repository is fetched from; an empty <see cref="Commit"/> means the branch's head.
/// </summary>
public sealed record JobSpec(
    string BuildId,
    string JobId,
    int Attempt,
    string Repository,
    string Commit,
    string Branch,
    string? Step,
    IReadOnlyDictionary<string, string> Env,
    TimeSpan CancelGrace,
    string? CloneUrl = null)
{
    /// <summary>How long a cancelled or timed-out step has between SIGTERM and SIGKILL when the job names no grace.</summary>
    public static readonly TimeSpan DefaultCancelGrace = TimeSpan.FromSeconds(10);
}
