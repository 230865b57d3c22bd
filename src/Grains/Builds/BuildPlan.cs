using Platform.Builds.Pipelines;

namespace Platform.Grains.Builds;

/// <summary>
/// The rules of one build, without storage or messages: a new build's pipeline job, the expansion of its pipeline into
/// jobs, which jobs may run as their dependencies end, retries, cancel and the build's own state (docs/builds.md).
/// </summary>
public static class BuildPlan
{
    /// <summary>The key of the job that reads the pipeline file (step keys cannot hold '~').</summary>
    public const string PipelineJob = "~pipeline";

    /// <summary>The pipeline job is run again when its agent is lost, twice at most.</summary>
    private static readonly List<RetryRuleRecord> s_pipelineRetry = [new([-1], 2)];

    /// <summary>A new build holding only its pipeline job, scheduled.</summary>
    public static BuildState New(BuildSpec spec, string id, int number, DateTimeOffset now) => new()
    {
        Id = id,
        Repository = spec.Repository,
        Number = number,
        Branch = spec.Branch,
        Commit = spec.Commit,
        CloneUrl = spec.CloneUrl,
        Trigger = spec.Trigger,
        TriggeredBy = spec.TriggeredBy,
        DeliveryId = spec.DeliveryId,
        Priority = spec.Priority,
        State = JobStates.Scheduled,
        Created = now,
        Jobs =
        [
            new JobRecord
            {
                Key = PipelineJob,
                Label = "Read the pipeline",
                State = JobStates.Scheduled,
                Retry = s_pipelineRetry,
                Scheduled = now,
                TimeoutSeconds = 600,
            },
        ],
    };

    /// <summary>Whether <paramref name="commit"/> is a full commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.</summary>
    public static bool IsFullCommit(string? commit)
        => commit is { Length: 40 or 64 } && commit.All(char.IsAsciiHexDigit);

    /// <summary>The pipeline job's answer: the steps become jobs (or the build fails with the parser's file:line:column: reason).</summary>
    public static void Expand(BuildState build, string file, string? yaml, string? error, DateTimeOffset now)
    {
        var pipelineJob = build.Job(PipelineJob)!;
        Pipeline pipeline;
        try
        {
            if (error is not null) throw new PipelineException(file, 0, 0, error);
            if (yaml is null) throw new PipelineException(file, 0, 0, "the pipeline job sent neither the file nor an error");
            pipeline = PipelineParser.Parse(yaml, file);
        }
        catch (PipelineException e)
        {
            // The agent's error already reads file:line:column: reason; ours is formatted the same way.
            var message = error ?? e.Message;
            build.Error = message;
            pipelineJob.Error = message;
            End(pipelineJob, JobStates.Failed, null, now);
            Settle(build, now);
            return;
        }
        build.PipelineFile = file;
        foreach (var (name, value) in pipeline.Env) build.Env[name] = value;
        foreach (var step in pipeline.Steps)
        {
            var job = new JobRecord
            {
                Key = step.Key,
                Label = step.Label,
                Step = step.Key,
                DependsOn = [.. step.DependsOn],
                Retry = [.. step.Retry.Select(r => new RetryRuleRecord(r.ExitStatuses is null ? null : [.. r.ExitStatuses], r.Limit))],
                Agents = new Dictionary<string, string>(step.Agents, StringComparer.Ordinal),
                Image = step.Container?.Image,
                ConcurrencyGroup = step.ConcurrencyGroup,
                Concurrency = step.Concurrency,
                TimeoutSeconds = (int)step.Timeout.TotalSeconds,
            };
            if (!step.Branches.Matches(build.Branch))
            {
                job.State = JobStates.Skipped;
                job.Error = $"branch '{build.Branch}' does not match the step's branches '{step.Branches.Text}'";
                job.Finished = now;
            }
            else if (job.DependsOn.Count == 0)
            {
                job.State = JobStates.Scheduled;
                job.Scheduled = now;
            }
            else
            {
                job.State = JobStates.Waiting;
            }
            build.Jobs.Add(job);
        }
        End(pipelineJob, JobStates.Passed, 0, now);
        Advance(build, now);
    }

    /// <summary>Waiting jobs whose dependencies all ended: scheduled when each passed or was skipped, broken when one did not pass.</summary>
    public static void Advance(BuildState build, DateTimeOffset now)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var job in build.Jobs)
            {
                if (job.State != JobStates.Waiting) continue;
                string? failed = null;
                var ready = true;
                foreach (var dependency in job.DependsOn)
                {
                    var state = build.Job(dependency)?.State ?? JobStates.Skipped;
                    if (state is JobStates.Passed or JobStates.Skipped) continue;
                    if (JobStates.IsFinal(state)) failed ??= $"'{dependency}' ended {state}";
                    else ready = false;
                }
                if (failed is not null)
                {
                    job.State = JobStates.Broken;
                    job.Error = $"not run: the step it depends on {failed}";
                    job.Finished = now;
                    changed = true;
                }
                else if (ready)
                {
                    job.State = JobStates.Scheduled;
                    job.Scheduled = now;
                    changed = true;
                }
            }
        }
        while (changed);
        Settle(build, now);
    }

    /// <summary>
    /// The current attempt of <paramref name="job"/> ended in <paramref name="state"/>: retried when its rules say so
    /// (a lost agent counts as exit status -1; a cancelled job or build never is). True when a new attempt was scheduled.
    /// </summary>
    public static bool Finish(BuildState build, JobRecord job, string state, int? exitStatus, string? error, DateTimeOffset now)
    {
        End(job, state, exitStatus, now);
        job.Error = error;
        var status = state == JobStates.Lost ? -1 : exitStatus ?? -1;
        var rules = job.Retry.Select(r => new RetryRule(r.ExitStatuses, r.Limit)).ToList();
        var retry = state != JobStates.Passed && !build.CancelRequested
            && RetryRule.ShouldRetry(rules, status, job.Retries, cancelled: state == JobStates.Canceled);
        if (retry)
        {
            NewAttempt(job, now);
            job.Retries++;
        }
        Advance(build, now);
        return retry;
    }

    /// <summary>Cancels the build: jobs not on an agent are canceled now; those on an agent are returned, to be told (they end canceled when their agent says so).</summary>
    public static List<JobRecord> Cancel(BuildState build, DateTimeOffset now)
    {
        var onAgents = new List<JobRecord>();
        if (JobStates.IsFinal(build.State)) return onAgents;
        build.CancelRequested = true;
        foreach (var job in build.Jobs)
        {
            if (job.State is JobStates.Waiting or JobStates.Scheduled) End(job, JobStates.Canceled, null, now);
            else if (JobStates.OnAgent(job.State)) onAgents.Add(job);
        }
        Settle(build, now);
        return onAgents;
    }

    /// <summary>A newer build of the branch took this one's place: a build none of whose jobs reached an agent is skipped. True when it was.</summary>
    public static bool SkipIfQueued(BuildState build, string newer, DateTimeOffset now)
    {
        if (JobStates.IsFinal(build.State) || build.CancelRequested) return false;
        foreach (var job in build.Jobs)
            if (job.State is not (JobStates.Waiting or JobStates.Scheduled)) return false;
        foreach (var job in build.Jobs) End(job, JobStates.Skipped, null, now);
        build.SupersededBy = newer;
        build.Error = $"superseded by build {newer} of the same branch before it started";
        Settle(build, now);
        return true;
    }

    /// <summary>Runs again, as a new attempt, every job of a finished build that did not pass (and the jobs they broke). Null when it was retried; else why not.</summary>
    public static string? Retry(BuildState build, DateTimeOffset now)
    {
        if (!JobStates.IsFinal(build.State)) return $"build {build.Id} is {build.State}; only a finished build is retried";
        if (build.State == JobStates.Passed) return $"build {build.Id} passed; there is nothing to retry";
        if (build.State == JobStates.Skipped) return $"build {build.Id} was skipped ({build.Error}); start a new build instead";
        build.CancelRequested = false;
        build.Finished = null;
        foreach (var job in build.Jobs)
        {
            if (job.State is JobStates.Failed or JobStates.Canceled or JobStates.TimedOut or JobStates.Lost)
            {
                if (job.Key == PipelineJob) build.Error = null;
                NewAttempt(job, now);
            }
            else if (job.State == JobStates.Broken)
            {
                job.State = JobStates.Waiting;
                job.Error = null;
                job.Finished = null;
            }
        }
        Advance(build, now);
        return null;
    }

    /// <summary>The build's state from its jobs'.</summary>
    public static void Settle(BuildState build, DateTimeOffset now)
    {
        var open = false;
        var anyFailed = false;
        var anyStarted = false;
        foreach (var job in build.Jobs)
        {
            if (!JobStates.IsFinal(job.State)) open = true;
            if (job.State is JobStates.Failed or JobStates.TimedOut or JobStates.Lost or JobStates.Canceled) anyFailed = true;
            if (job.Assigned is not null || job.History.Count != 0) anyStarted = true;
        }
        if (open)
        {
            build.State = build.CancelRequested ? JobStates.Canceling : anyStarted ? JobStates.Running : JobStates.Scheduled;
            return;
        }
        build.State = build.CancelRequested ? JobStates.Canceled
            : build.SupersededBy is not null ? JobStates.Skipped
            : build.Error is not null || anyFailed ? JobStates.Failed
            : JobStates.Passed;
        build.Finished ??= now;
    }

    private static void End(JobRecord job, string state, int? exitStatus, DateTimeOffset now)
    {
        job.State = state;
        job.ExitStatus = exitStatus;
        job.Finished = now;
    }

    private static void NewAttempt(JobRecord job, DateTimeOffset now)
    {
        job.History.Add(new AttemptRecord(job.Attempt, job.State, job.ExitStatus, job.Agent, job.Started, job.Finished, job.LogLength, job.Error));
        job.Attempt++;
        job.State = JobStates.Scheduled;
        job.Scheduled = now;
        job.Agent = null;
        job.AgentIncarnation = 0;
        job.ExitStatus = null;
        job.Error = null;
        job.Assigned = null;
        job.Started = null;
        job.Finished = null;
        job.LogLength = 0;
        job.Artifacts = [];
    }
}

/// <summary>What starts a build: the repository (and where to clone it), the branch and commit, and who or what asked.</summary>
public sealed record BuildSpec(string Repository, string CloneUrl, string Branch, string Commit, string Trigger, string? TriggeredBy, string? DeliveryId, int Priority = 0);
