using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Builds.Running;
using Platform.Protocol;

namespace Platform.Agent.Builds;

/// <summary>
/// The agent's build jobs (docs/builds.md, "Jobs on agents"): starts each job the silo sends once per (job, attempt),
/// streams its log, ends it with <c>job-done</c>, and on every reconnect resends what the silo has not acknowledged.
/// One sender loop sends every job frame, so a job's frames leave in order and a connection gets each chunk once.
/// </summary>
internal sealed partial class JobHost : IAsyncDisposable
{
    private readonly JobRunner _runner;
    private readonly JobLedger _ledger;
    private readonly Func<AgentFrame, ValueTask<bool>> _send;
    private readonly ILogger _logger;
    private readonly int _slots;
    private readonly IReadOnlyList<string> _repositories;
    private readonly TimeSpan _defaultGrace;
    private readonly TimeSpan _resendInterval;
    private readonly ConcurrentDictionary<(string, int), HostedJob> _jobs = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _running = [];
    private readonly Task _sender;
    private int _connection;
    private int _senderConnection = -1;

    public JobHost(JobHostOptions options, Func<AgentFrame, ValueTask<bool>> send, ILogger logger)
    {
        _runner = new JobRunner(new JobRunnerOptions
        {
            JobsDirectory = Path.Combine(options.DataDir, "builds", "jobs"),
            Git = new GitCheckout(Path.Combine(options.DataDir, "builds", "mirrors")),
            Engine = options.Engine,
            Artifacts = options.Artifacts,
        });
        _ledger = new JobLedger(options.DataDir);
        _send = send;
        _logger = logger;
        _slots = options.Slots;
        _repositories = options.Repositories;
        _defaultGrace = options.CancelGrace;
        _resendInterval = options.ResendInterval;
        Engine = options.Engine;
        foreach (var entry in _ledger.Unacknowledged()) Recover(entry);
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>The engine steps with an image run in (null: none, such jobs are not taken).</summary>
    public ContainerEngine? Engine { get; }

    /// <summary>The jobs running or waiting for their end to be acknowledged.</summary>
    public int Count => _jobs.Count;

    /// <summary>Every log chunk of the attempt up to this one is acknowledged (-1 when the attempt is not held).</summary>
    internal long AcknowledgedLog(string jobId, int attempt) => _jobs.TryGetValue((jobId, attempt), out var job) ? job.Log.Acknowledged : -1;

    /// <summary>Raised when a job ends (after its end is on disk).</summary>
    public event Action<JobDoneFrame>? Ended;

    /// <summary>After a welcome: says what this agent takes and resends every job's unacknowledged frames.</summary>
    public async ValueTask OnWelcomeAsync()
    {
        await _send(new JobCapacityFrame(_slots, Engine?.Name)).ConfigureAwait(false);
        Interlocked.Increment(ref _connection);
        Wake();
    }

    /// <summary>Handles a build frame from the silo; false when <paramref name="frame"/> is not one.</summary>
    public bool OnFrame(AgentFrame frame)
    {
        switch (frame)
        {
            case JobFrame job:
                Start(job);
                return true;
            case JobCancelFrame cancel:
                if (_jobs.TryGetValue((cancel.JobId, cancel.Attempt), out var running) && running.End is null)
                {
                    LogCanceling(_logger, cancel.JobId, cancel.Attempt);
                    running.Cancel.Cancel();
                }
                return true;
            case JobLogAckFrame ack:
                if (_jobs.TryGetValue((ack.JobId, ack.Attempt), out var logged)) logged.Log.Acknowledge(ack.Seq);
                return true;
            case JobDoneAckFrame doneAck:
                if (_jobs.TryGetValue((doneAck.JobId, doneAck.Attempt), out var done) && done.End is { } end)
                {
                    _ledger.Write(new JobLedger.Entry(done.JobId, done.Attempt, JobLedger.Acknowledged, end.Done));
                    _jobs.TryRemove((done.JobId, done.Attempt), out _);
                }
                return true;
            default:
                return false;
        }
    }

    private void Start(JobFrame frame)
    {
        var key = (frame.JobId, frame.Attempt);
        if (_jobs.TryGetValue(key, out var known))
        {
            // The silo asks again (it may have missed job-started or job-done): it gets them again, the job does not run twice.
            LogAlreadyRunning(_logger, frame.JobId, frame.Attempt);
            lock (known) known.Resend();
            Wake();
            return;
        }
        if (!_ledger.TryClaim(frame.JobId, frame.Attempt))
        {
            LogRanAlready(_logger, frame.JobId, frame.Attempt);
            return;
        }
        var job = new HostedJob(frame.JobId, frame.Attempt);
        job.Log.Appended += Wake;
        _jobs[key] = job;
        var busy = 0;
        foreach (var other in _jobs.Values)
            if (other.End is null && !ReferenceEquals(other, job)) busy++;
        if (busy >= _slots)
        {
            job.StartedEverSent = true;
            Finish(job, new JobOutcome(JobState.Failed, null, $"this agent runs {busy} job(s) already, its build_slots", []));
            return;
        }
        // The registered clone URL is what the agent fetches; the repository's name is only its name.
        var source = string.IsNullOrEmpty(frame.CloneUrl) ? frame.Repository : frame.CloneUrl;
        if (!MayBuild(source))
        {
            // A job runs the repository's code on this node: only repositories the node's own configuration names.
            job.StartedEverSent = true;
            Finish(job, new JobOutcome(JobState.Failed, null, $"repository '{source}' is not one this agent builds (build_repositories: {string.Join(", ", _repositories)})", []));
            return;
        }
        LogStarting(_logger, frame.JobId, frame.Attempt, frame.Step ?? "(pipeline)", source, frame.Commit.Length > 0 ? frame.Commit : "the head of " + frame.Branch);
        var spec = new JobSpec(frame.BuildId, frame.JobId, frame.Attempt, frame.Repository, frame.Commit, frame.Branch, frame.Step,
            frame.Env ?? new Dictionary<string, string>(), frame.CancelGraceMs > 0 ? TimeSpan.FromMilliseconds(frame.CancelGraceMs) : _defaultGrace, source);
        var run = Task.Run(async () =>
        {
            JobOutcome outcome;
            try
            {
                outcome = await _runner.RunAsync(spec, data => job.Log.Append(data), job.Cancel.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                outcome = new JobOutcome(JobState.Failed, null, $"the agent could not run the job: {e.Message}", []);
            }
            Finish(job, outcome);
        });
        lock (_running)
        {
            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(run);
        }
        Wake();
    }

    private bool MayBuild(string repository)
    {
        if (_repositories.Count == 0) return true;
        foreach (var pattern in _repositories)
            if (Platform.Builds.Pipelines.Glob.Matches(pattern, repository)) return true;
        return false;
    }

    private void Finish(HostedJob job, JobOutcome outcome)
    {
        var pipeline = outcome.Pipeline is { } p ? new JobPipelineFrame(job.JobId, job.Attempt, p.File, p.Yaml, p.Error, p.Commit) : null;
        var done = new JobDoneFrame(job.JobId, job.Attempt, outcome.State, outcome.ExitStatus, job.Log.Length, outcome.Artifacts, outcome.Error);
        try
        {
            _ledger.Write(new JobLedger.Entry(job.JobId, job.Attempt, JobLedger.Done, done, pipeline));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLedgerFailed(_logger, job.JobId, job.Attempt, e.Message);
        }
        job.End = new JobEnd(pipeline, done);
        LogEnded(_logger, job.JobId, job.Attempt, outcome.State, outcome.ExitStatus, outcome.Error);
        try { Ended?.Invoke(done); }
        catch (Exception e) { LogObserverFailed(_logger, e); }
        Wake();
    }

    /// <summary>A job the agent's last run left unacknowledged: its end is resent; one cut short by a stop ends failed.</summary>
    private void Recover(JobLedger.Entry entry)
    {
        var job = new HostedJob(entry.JobId, entry.Attempt);
        if (entry.Status == JobLedger.Done && entry.Done is { } done)
        {
            job.End = new JobEnd(entry.Pipeline, done);
        }
        else
        {
            var lost = new JobDoneFrame(entry.JobId, entry.Attempt, JobState.Failed, null, 0, [], "the agent stopped while the job ran; its log after the last acknowledged chunk is lost");
            _ledger.Write(entry with { Status = JobLedger.Done, Done = lost });
            job.End = new JobEnd(null, lost);
        }
        job.StartedEverSent = true;
        _jobs[(entry.JobId, entry.Attempt)] = job;
    }

    private void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { /* the sender is already due to run */ }
    }

    private async Task SendLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            bool woken;
            try { woken = await _wake.WaitAsync(_resendInterval, _stopping.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            var connection = Volatile.Read(ref _connection);
            if (connection != _senderConnection)
            {
                _senderConnection = connection;
                foreach (var job in _jobs.Values)
                    lock (job) job.Resend();
            }
            else if (!woken)
            {
                // Nothing happened for a resend interval: what is still unacknowledged goes again on this connection (the
                // silo that took a chunk or an end may have died while this connection stayed).
                foreach (var job in _jobs.Values)
                    lock (job) job.ResendUnacknowledged();
            }
            foreach (var job in _jobs.Values)
            {
                if (!await SendJobAsync(job).ConfigureAwait(false)) break;
            }
        }
    }

    /// <summary>Sends what <paramref name="job"/> has not sent on this connection; false when the connection is gone.</summary>
    private async Task<bool> SendJobAsync(HostedJob job)
    {
        bool started;
        long sentThrough;
        long resends;
        lock (job)
        {
            started = job.StartedSent;
            sentThrough = job.SentThrough;
            resends = job.Resends;
        }
        // A resend asked for while a frame was on its way (the silo sent the job again on seeing job-started) must not
        // be overwritten by the record of that send: what was sent is recorded only if no resend came meanwhile.
        var end = job.End;
        // job-started goes once, and again on a new connection only while the job runs: an ended job's job-done says it all.
        if (!started && (end is null || !job.StartedEverSent))
        {
            if (!await _send(new JobStartedFrame(job.JobId, job.Attempt)).ConfigureAwait(false)) return false;
            job.StartedEverSent = true;
        }
        lock (job)
            if (job.Resends == resends) job.StartedSent = true;
        foreach (var chunk in job.Log.After(sentThrough))
        {
            if (!await _send(new JobLogFrame(job.JobId, job.Attempt, chunk.Seq, chunk.Offset, chunk.Data)).ConfigureAwait(false)) return false;
            lock (job)
                if (job.Resends == resends) job.SentThrough = chunk.Seq;
        }
        bool endSent;
        long sentThroughNow;
        lock (job)
        {
            endSent = job.EndSent;
            sentThroughNow = job.SentThrough;
        }
        // The end goes after the whole log, so a silo that has job-done has every chunk before it.
        if (end is not null && !endSent && job.Log.LastSeq == sentThroughNow)
        {
            if (end.Pipeline is { } pipeline && !await _send(pipeline).ConfigureAwait(false)) return false;
            if (!await _send(end.Done).ConfigureAwait(false)) return false;
            lock (job)
                if (job.Resends == resends) job.EndSent = true;
        }
        return true;
    }

    /// <summary>Cancels every running job (each ends canceled, its end kept for the next connection) and waits for them.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        foreach (var job in _jobs.Values)
            if (job.End is null) await job.Cancel.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_running) running = [.. _running];
        await Task.WhenAny(Task.WhenAll(running), Task.Delay(grace + TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sender.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested) await StopAsync(_defaultGrace).ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "agent: job {JobId} attempt {Attempt}: starting step {Step} of {Repository} at {Commit}")]
    private static partial void LogStarting(ILogger logger, string jobId, int attempt, string step, string repository, string commit);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "agent: job {JobId} attempt {Attempt} ended {State} (exit status {ExitStatus}){Error}")]
    private static partial void LogEndedCore(ILogger logger, string jobId, int attempt, string state, int? exitStatus, string error);

    private static void LogEnded(ILogger logger, string jobId, int attempt, string state, int? exitStatus, string? error)
        => LogEndedCore(logger, jobId, attempt, state, exitStatus, error is null ? "" : ": " + error);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "agent: job {JobId} attempt {Attempt}: canceling (SIGTERM to its process group, SIGKILL after the grace period)")]
    private static partial void LogCanceling(ILogger logger, string jobId, int attempt);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "agent: job {JobId} attempt {Attempt} ran on this agent already; not started again")]
    private static partial void LogRanAlready(ILogger logger, string jobId, int attempt);

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "agent: job {JobId} attempt {Attempt} is running or ended here already; resending its frames")]
    private static partial void LogAlreadyRunning(ILogger logger, string jobId, int attempt);

    [LoggerMessage(EventId = 405, Level = LogLevel.Error, Message = "agent: job {JobId} attempt {Attempt}: its end could not be written to the data directory: {Error}")]
    private static partial void LogLedgerFailed(ILogger logger, string jobId, int attempt, string error);

    [LoggerMessage(EventId = 406, Level = LogLevel.Error, Message = "agent: an observer of job ends failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception failure);
}
