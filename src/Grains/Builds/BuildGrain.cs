using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Grains.Nodes;
using Platform.Grains.Rules;
using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>
/// A build: <see cref="BuildPlan"/>'s rules applied to its stored state, one change per turn, written before anything
/// is sent. While it has unfinished jobs a reminder checks them (docs/builds.md, "Crashes"): scheduled jobs are queued
/// again, an order never started is sent again (the same attempt), and a job whose agent's node failed is lost.
/// </summary>
[GrainType("build")]
internal sealed partial class BuildGrain(
    [PersistentState("build")] IPersistentState<BuildState> state,
    IOptions<BuildsOptions> options,
    ILogger<BuildGrain> logger) : Grain, IBuildGrain, IRemindable
{
    private const string Reminder = "jobs";
    private readonly BuildsOptions _options = options.Value;

    private BuildState B => state.State;

    private bool Exists => state.RecordExists && B.Id.Length != 0;

    /// <summary>This silo's build counters; none when the host registers none (unit tests).</summary>
    private BuildCounters? Counters => ServiceProvider.GetService(typeof(BuildCounters)) as BuildCounters;

    /// <summary>The build's state as last stored, so that a build is counted finished once per finish.</summary>
    private string? _savedState;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _savedState = Exists ? B.State : null;
        return Task.CompletedTask;
    }

    private IBuildQueueGrain Queue => GrainFactory.GetGrain<IBuildQueueGrain>(BuildQueueGrain.DefaultKey);

    private IBuildFeedGrain Feed => GrainFactory.GetGrain<IBuildFeedGrain>(BuildFeedGrain.DefaultKey);

    public async Task<CreateResult> Create(BuildSpec spec, int number)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Exists)
            return B.Repository == spec.Repository && B.Commit == spec.Commit && B.Branch == spec.Branch && B.DeliveryId == spec.DeliveryId && B.Trigger == spec.Trigger
                ? CreateResult.Existing : CreateResult.Taken;
        state.State = BuildPlan.New(spec, GetPrimaryKeyString(), number, DateTimeOffset.UtcNow);
        await Save();
        Counters?.OnStarted();
        await RegisterOrUpdateReminder(Reminder, _options.BuildCheckInterval, _options.BuildCheckInterval);
        LogCreated(logger, B.Id, B.Branch, B.Commit, B.Trigger);
        await QueueScheduled();
        return CreateResult.Created;
    }

    public Task<BuildState?> Get() => Task.FromResult(Exists ? Copy(B) : null);

    public async Task<JobOrder?> Assign(string jobKey, int attempt, string agent, long incarnation)
    {
        if (!Exists || B.Job(jobKey) is not { } job || job.Attempt != attempt) return null;
        if (JobStates.OnAgent(job.State)) return job.Agent == agent ? Order(job) : null;
        if (job.State != JobStates.Scheduled || B.CancelRequested) return null;
        var now = DateTimeOffset.UtcNow;
        job.State = JobStates.Assigned;
        job.Agent = agent;
        job.AgentIncarnation = incarnation;
        job.AgentToken = null;
        job.Assigned = now;
        B.Started ??= now;
        BuildPlan.Settle(B, now);
        await Save();
        return Order(job);
    }

    public async Task<bool> JobStarted(string jobKey, int attempt, string agent, string? token)
    {
        if (Current(jobKey, attempt) is not { } job || !JobStates.OnAgent(job.State) || job.Agent != agent)
        {
            if (Exists) LogStaleJobStarted(logger, B.Id, jobKey, attempt, agent);
            return false;
        }
        // Sent again after a reconnect: the token of the newest connection is the one that uploads.
        if (job.State == JobStates.Running && job.AgentToken == token) return true;
        var first = job.State == JobStates.Assigned;
        if (first) job.Started = DateTimeOffset.UtcNow;
        job.State = JobStates.Running;
        job.AgentToken = token;
        await Save();
        if (first) TellNode(agent, job, attempt, JobStates.Running, null, job.Started, null, null);
        return true;
    }

    /// <summary>Tells the agent's node history of an attempt that started or ended on it, once that is stored here.</summary>
    private void TellNode(string agent, JobRecord job, int attempt, string jobState, int? exitStatus, DateTimeOffset? started, DateTimeOffset? finished, string? error)
        => GrainFactory.GetGrain<INodeHistoryGrain>(agent)
            .RecordJob(new NodeJobEntry(B.Id, B.Repository, B.Branch, B.Number, job.Key, job.Label, attempt, jobState, exitStatus, started, finished, error))
            .Ignore(logger);

    public Task<bool> RunsJobFor(string token)
        => Task.FromResult(Exists && B.Jobs.Any(j => JobStates.OnAgent(j.State) && j.AgentToken == token));

    public async Task JobPipeline(string jobKey, int attempt, string file, string? yaml, string? error, string? commit)
    {
        if (Current(jobKey, attempt) is not { } job || job.Step is not null || !JobStates.OnAgent(job.State)) return;
        var now = DateTimeOffset.UtcNow;
        job.Started ??= now;
        // A build of a branch's head builds the head its pipeline job found: every later job, the rules and deploys see it.
        if (B.Commit.Length == 0 && BuildPlan.IsFullCommit(commit))
        {
            B.Commit = commit!;
            LogBranchAt(logger, B.Id, B.Branch, B.Commit);
        }
        if (B.CancelRequested)
        {
            await EndAttempt(job, JobStates.Canceled, null, "the build was cancelled");
            return;
        }
        BuildPlan.Expand(B, file, yaml, error, now);
        await Save();
        // Expanding ends the pipeline job (the agent's job-done for it then changes nothing).
        if (JobStates.IsFinal(job.State) && job.Agent is { } agent) TellNode(agent, job, attempt, job.State, job.ExitStatus, job.Started, job.Finished, job.Error);
        if (B.Error is not null) LogFailed(logger, B.Id, B.Error);
        Queue.Withdraw(JobId(job), attempt).Ignore(logger);
        await AfterChange();
    }

    public async Task<bool> JobDone(string jobKey, int attempt, JobReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!Exists || B.Job(jobKey) is not { } job) return false;
        // An older attempt, or this one again: already stored.
        if (attempt != job.Attempt || JobStates.IsFinal(job.State) || job.State is JobStates.Scheduled or JobStates.Waiting) return true;
        if (job.Agent != report.Agent) return true;
        var now = DateTimeOffset.UtcNow;
        job.LogLength = report.LogLength;
        job.Artifacts = report.Artifacts;
        job.Started ??= now;
        var ended = JobStates.IsReportable(report.State) ? report.State : JobStates.Failed;
        var error = JobStates.IsReportable(report.State) ? report.Error : $"the agent reported state '{report.State}'; expected passed, failed, canceled or timed_out";
        if (job.Step is null && ended == JobStates.Passed)
        {
            // A pipeline job that ends without sending its pipeline cannot expand the build.
            ended = JobStates.Failed;
            error = "the pipeline job ended without sending the pipeline (job-pipeline)";
        }
        await EndAttempt(job, ended, report.ExitStatus, error);
        return true;
    }

    public async Task<string?> Cancel()
    {
        if (!Exists) return $"build {GetPrimaryKeyString()} does not exist";
        if (JobStates.IsFinal(B.State)) return null;
        var now = DateTimeOffset.UtcNow;
        var scheduled = B.Jobs.Where(j => j.State == JobStates.Scheduled).Select(j => (JobId(j), j.Attempt)).ToList();
        var onAgents = BuildPlan.Cancel(B, now);
        await Save();
        LogCancelled(logger, B.Id);
        foreach (var (jobId, attempt) in scheduled) Queue.Withdraw(jobId, attempt).Ignore(logger);
        foreach (var job in onAgents) Queue.CancelJob(job.Agent!, JobId(job), job.Attempt).Ignore(logger);
        await AfterChange();
        return null;
    }

    public async Task<string?> Retry()
    {
        if (!Exists) return $"build {GetPrimaryKeyString()} does not exist";
        if (BuildPlan.Retry(B, DateTimeOffset.UtcNow) is { } refused) return refused;
        await Save();
        Counters?.OnStarted();
        await RegisterOrUpdateReminder(Reminder, _options.BuildCheckInterval, _options.BuildCheckInterval);
        await QueueScheduled();
        return null;
    }

    public async Task Supersede(string newer, bool cancelRunning)
    {
        if (!Exists || JobStates.IsFinal(B.State)) return;
        var scheduled = B.Jobs.Where(j => j.State == JobStates.Scheduled).Select(j => (JobId(j), j.Attempt)).ToList();
        if (BuildPlan.SkipIfQueued(B, newer, DateTimeOffset.UtcNow))
        {
            await Save();
            LogSuperseded(logger, B.Id, newer);
            foreach (var (jobId, attempt) in scheduled) Queue.Withdraw(jobId, attempt).Ignore(logger);
            await AfterChange();
        }
        else if (cancelRunning)
        {
            await Cancel();
        }
    }

    public Task<int> AttemptOnAgent(string jobKey)
        => Task.FromResult(Exists && B.Job(jobKey) is { } job && JobStates.OnAgent(job.State) ? job.Attempt : 0);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!Exists || JobStates.IsFinal(B.State))
        {
            if (!Exists || await TellRules()) await UnregisterReminder(reminderName);
            return;
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var job in B.Jobs.ToList())
        {
            if (!JobStates.OnAgent(job.State)) continue;
            var node = await GrainFactory.GetGrain<INodeGrain>(job.Agent!).Get();
            var lost = node is null ? "its agent's node is not known"
                : node.Member.Status is NodeStatus.Failed or NodeStatus.Left ? $"its agent's node is {node.Member.Status}"
                : node.Member.Incarnation != job.AgentIncarnation ? "its agent's node restarted" : null;
            if (lost is not null)
            {
                LogJobLost(logger, B.Id, job.Key, job.Attempt, lost);
                // An agent failed by a partition may still run the attempt: it is told to stop if it is connected now,
                // and when it comes back its job-started for the attempt is answered with a cancel.
                Queue.CancelJob(job.Agent!, JobId(job), job.Attempt).Ignore(logger);
                await EndAttempt(job, JobStates.Lost, null, $"lost: {lost}");
            }
            else if (now > Deadline(job))
            {
                // The agent ends a job at its timeout; one that has not reported by now is hung or cut off: the job is stopped
                // here, and the agent is told to cancel it in case it still runs it (a late job-done is acknowledged, not stored).
                var (agent, jobId, attempt) = (job.Agent!, JobId(job), job.Attempt);
                var why = $"timed out: agent {agent} reported no end within the step's timeout of {TimeSpan.FromSeconds(job.TimeoutSeconds)} "
                    + $"and {(_options.CancelGrace + _options.TimeoutGrace).TotalSeconds:0.###} s of grace (Platform:Builds:CancelGrace + TimeoutGrace)";
                LogJobTimedOut(logger, B.Id, job.Key, attempt, why);
                Queue.CancelJob(agent, jobId, attempt).Ignore(logger);
                await EndAttempt(job, JobStates.TimedOut, null, why);
            }
            else if (job.State == JobStates.Assigned && now - job.Assigned > _options.StartTimeout)
            {
                Queue.Deliver(job.Agent!, Order(job)).Ignore(logger);
            }
        }
        await QueueScheduled();
    }

    /// <summary>When the build stops waiting for an attempt's end: its timeout (at least 1 s), the cancel grace and <see cref="BuildsOptions.TimeoutGrace"/> after it started.</summary>
    private DateTimeOffset Deadline(JobRecord job)
        => (job.Started ?? job.Assigned ?? DateTimeOffset.UtcNow) + TimeSpan.FromSeconds(Math.Max(1, job.TimeoutSeconds)) + _options.CancelGrace + _options.TimeoutGrace;

    /// <summary>Ends the current attempt of a job: stored, its slot freed, a retry or the jobs now ready queued.</summary>
    private async Task EndAttempt(JobRecord job, string endState, int? exitStatus, string? error)
    {
        var attempt = job.Attempt;
        var (agent, started) = (job.Agent, job.Started);
        var now = DateTimeOffset.UtcNow;
        var retried = BuildPlan.Finish(B, job, endState, exitStatus, error, now);
        await Save();
        if (agent is not null) TellNode(agent, job, attempt, endState, exitStatus, started, now, error);
        if (retried) LogJobRetried(logger, B.Id, job.Key, endState, job.Attempt);
        Queue.Withdraw(JobId(job), attempt).Ignore(logger);
        GrainFactory.GetGrain<IJobLogGrain>(BuildGrainKeys.Log(JobId(job), attempt)).End().Ignore(logger);
        await AfterChange();
    }

    /// <summary>After a change: queues what is scheduled, or, once the build is finished, stops its reminder.</summary>
    private async Task AfterChange()
    {
        if (JobStates.IsFinal(B.State))
        {
            LogFinished(logger, B.Id, B.State);
            // The reminder stays until the rule engine has the final state: it tells it again on its next tick.
            if (await TellRules()) await UnregisterReminder(Reminder);
            return;
        }
        await QueueScheduled();
    }

    /// <summary>Tells the rule engine the build's final state (once durable there); false when it could not be told yet.</summary>
    private async Task<bool> TellRules()
    {
        if (B.RulesTold) return true;
        try
        {
            await GrainFactory.GetGrain<IRuleEngineGrain>(RuleEngineGrain.DefaultKey)
                .OnBuildFinished(B.Repository, B.Branch, B.Commit.Length == 0 ? null : B.Commit, B.Id, B.State);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRulesNotTold(logger, B.Id, B.State, e.Message);
            return false;
        }
        B.RulesTold = true;
        await Save();
        return true;
    }

    private Task QueueScheduled()
    {
        foreach (var job in B.Jobs)
        {
            if (job.State != JobStates.Scheduled) continue;
            Queue.Enqueue(new JobTicket(JobId(job), job.Attempt, B.Id, B.Repository, B.Branch, B.Priority,
                job.Agents, job.Image, job.ConcurrencyGroup, job.Concurrency, job.Scheduled ?? DateTimeOffset.UtcNow)).Ignore(logger);
        }
        return Task.CompletedTask;
    }

    /// <summary>Stores the build, then tells the feed (a copy: the message may be sent after the next change).</summary>
    private async Task Save()
    {
        await state.WriteStateAsync();
        if (JobStates.IsFinal(B.State) && !(_savedState is { } saved && JobStates.IsFinal(saved))) Counters?.OnFinished(B.State);
        _savedState = B.State;
        Feed.BuildChanged(Copy(B)).Ignore(logger);
    }

    private JobRecord? Current(string jobKey, int attempt)
        => Exists && B.Job(jobKey) is { } job && job.Attempt == attempt ? job : null;

    private string JobId(JobRecord job) => BuildGrainKeys.Job(B.Id, job.Key);

    private JobOrder Order(JobRecord job)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PLATFORM_BUILD_ID"] = B.Id,
            ["PLATFORM_BUILD_NUMBER"] = B.Number.ToString(CultureInfo.InvariantCulture),
            ["PLATFORM_REPOSITORY"] = B.Repository,
            ["PLATFORM_BRANCH"] = B.Branch,
            ["PLATFORM_COMMIT"] = B.Commit,
            ["PLATFORM_JOB_ID"] = JobId(job),
            ["PLATFORM_JOB_ATTEMPT"] = job.Attempt.ToString(CultureInfo.InvariantCulture),
        };
        if (job.Step is { } step) env["PLATFORM_STEP_KEY"] = step;
        return new JobOrder(B.Id, JobId(job), job.Attempt, B.Repository, B.CloneUrl, B.Commit, B.Branch, job.Step, env, (int)_options.CancelGrace.TotalMilliseconds);
    }

    private static BuildState Copy(BuildState build) => JsonSerializer.Deserialize<BuildState>(JsonSerializer.SerializeToUtf8Bytes(build))!;
}
