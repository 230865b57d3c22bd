using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>One build (<c>build/{repository}/{number}</c>): its durable state and every change to its jobs.</summary>
public interface IBuildGrain : IGrainWithStringKey
{
    /// <summary>Creates the build with its pipeline job; the same spec again is the same build, another one is refused.</summary>
    Task<CreateResult> Create(BuildSpec spec, int number);

    /// <summary>The build as stored (a copy), or null when it does not exist.</summary>
    [ReadOnly]
    Task<BuildState?> Get();

    /// <summary>The queue gives <paramref name="attempt"/> of job <paramref name="jobKey"/> to an agent: the order to send, or null when it no longer runs.</summary>
    Task<JobOrder?> Assign(string jobKey, int attempt, string agent, long incarnation);

    /// <summary>
    /// The agent started the attempt; <paramref name="token"/> names the access token its connection presented (null: none).
    /// False when the attempt is no longer this agent's to run (ended as lost or timed out while the agent was away,
    /// retried, cancelled): the agent is to stop it.
    /// </summary>
    Task<bool> JobStarted(string jobKey, int attempt, string agent, string? token);

    /// <summary>
    /// The pipeline job's answer: the file's text, or why it could not be read, and the commit it checked out (kept as the
    /// build's commit when the build was started without one).
    /// </summary>
    Task JobPipeline(string jobKey, int attempt, string file, string? yaml, string? error, string? commit);

    /// <summary>The attempt ended; true once stored (also when it was stored before: the agent may resend).</summary>
    Task<bool> JobDone(string jobKey, int attempt, JobReport report);

    /// <summary>Cancels the build; null when done (or already finished), else why not.</summary>
    Task<string?> Cancel();

    /// <summary>Runs the failed jobs of a finished build again; null when done, else why not.</summary>
    Task<string?> Retry();

    /// <summary>A newer build of the same branch exists: skipped if none of this one's jobs started, else cancelled when <paramref name="cancelRunning"/>.</summary>
    Task Supersede(string newer, bool cancelRunning);

    /// <summary>Whether a job of this build is on an agent (assigned or running) whose connection presented token <paramref name="token"/>.</summary>
    [ReadOnly]
    Task<bool> RunsJobFor(string token);

    /// <summary>The attempt of job <paramref name="jobKey"/> holding an agent's slot, or 0 when none does.</summary>
    [ReadOnly]
    Task<int> AttemptOnAgent(string jobKey);
}

/// <summary>What an agent reported at the end of an attempt (<c>job-done</c>).</summary>
public sealed record JobReport(string State, int? ExitStatus, long LogLength, List<ArtifactRecord> Artifacts, string? Error, string Agent);

/// <summary>The answer to <see cref="IBuildGrain.Create"/>.</summary>
public enum CreateResult
{
    Created,

    /// <summary>The build existed with the same trigger: a retried create.</summary>
    Existing,

    /// <summary>The number is taken by another build.</summary>
    Taken,
}
