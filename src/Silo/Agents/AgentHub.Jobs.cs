using System.Threading.Channels;
using Platform.Grains.Builds;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>
/// Build jobs over the agent connections (docs/builds.md, "Jobs on agents"): the hub reports its agents' job slots to
/// the build queue, sends the queue's orders and cancels to the agent that holds the job, and hands each job frame an
/// agent sends to the job's build grain (logs to the attempt's log grain), acknowledging only what is stored.
/// </summary>
public sealed partial class AgentHub
{
    private readonly Channel<bool> _agentsChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private IJobDispatcher? _jobDispatcher;
    private Task? _reportingAgents;

    private IBuildQueueGrain BuildQueue => _grains.GetGrain<IBuildQueueGrain>("default");

    private void StartJobs()
    {
        _jobDispatcher = _grains.CreateObjectReference<IJobDispatcher>(new JobDispatch(this));
        _reportingAgents = ReportAgentsLoop(_stopping.Token);
    }

    private async Task StopJobsAsync(CancellationToken cancellationToken)
    {
        _agentsChanged.Writer.TryComplete();
        if (_reportingAgents is { } reporting) await reporting.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_jobDispatcher is { } dispatcher) _grains.DeleteObjectReference(dispatcher);
    }

    /// <summary>The agents' slots changed (capacity, a connection ended): the queue hears of it now, not at the next renewal.</summary>
    private void AgentsChanged() => _agentsChanged.Writer.TryWrite(true);

    /// <summary>Reports every agent with job slots to the queue at each change and every renewal interval (the queue forgets silent hubs).</summary>
    private async Task ReportAgentsLoop(CancellationToken stopping)
    {
        var renewal = _builds.AgentRenewal;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var agents = new List<AgentSlots>();
                foreach (var connection in Volatile.Read(ref _all))
                {
                    if (connection is { Accepted: true, Ended: false, JobSlots: > 0 })
                        agents.Add(new AgentSlots(connection.Name, new Dictionary<string, string>(connection.Tags, StringComparer.Ordinal), connection.JobSlots, connection.Engine, connection.Incarnation));
                }
                // A hub with no agent with slots says so once, then only when that changes.
                if (agents.Count != 0 || _reportedAgents) await BuildQueue.UpdateAgents(_jobDispatcher!, HubKey, agents);
                _reportedAgents = agents.Count != 0;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                LogSlotsNotReported(_logger, e.Message);
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            wait.CancelAfter(renewal);
            try
            {
                if (!await _agentsChanged.Reader.WaitToReadAsync(wait.Token)) return;
                _agentsChanged.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private bool _reportedAgents;

    /// <summary>Handles a job frame from an agent; false when <paramref name="frame"/> is not one.</summary>
    private async Task<bool> HandleJobFrame(AgentConnection connection, AgentFrame frame)
    {
        switch (frame)
        {
            case JobCapacityFrame capacity:
                connection.JobSlots = Math.Max(0, capacity.Slots);
                connection.Engine = string.IsNullOrEmpty(capacity.Engine) ? null : capacity.Engine;
                AgentsChanged();
                return true;
            case JobStartedFrame started:
                // An attempt that is no longer this agent's (it ended as lost while the agent was away, say) must not run on beside its retry.
                if (Build(started.JobId, out var key) is { } startedBuild && !await startedBuild.JobStarted(key, started.Attempt, connection.Name, connection.Token))
                    connection.Send(AgentProtocol.Encode(new JobCancelFrame(started.JobId, started.Attempt)));
                return true;
            case JobPipelineFrame pipeline:
                if (Build(pipeline.JobId, out key) is { } pipelineBuild)
                    await pipelineBuild.JobPipeline(key, pipeline.Attempt, pipeline.File, pipeline.Yaml, pipeline.Error, pipeline.Commit);
                return true;
            case JobLogFrame log:
                // Not one durable write per chunk in turn: the pipe merges what arrives while a write is in flight.
                if (!connection.LogPipes.TryGetValue((log.JobId, log.Attempt), out var pipe))
                {
                    var (jobId, attempt) = (log.JobId, log.Attempt);
                    connection.LogPipes[(jobId, attempt)] = pipe = new LogPipe(_grains.GetGrain<IJobLogGrain>(BuildGrainKeys.Log(jobId, attempt)),
                        acked => connection.Send(AgentProtocol.Encode(new JobLogAckFrame(jobId, attempt, acked))),
                        e => LogFrameFailed(_logger, e, connection.Name, nameof(JobLogFrame)));
                }
                await pipe.Add(log.Seq, log.Offset, log.Data);
                return true;
            case JobDoneFrame done:
                // The agent sends the end after its whole log: the build hears of it once every chunk before it is stored.
                var logWritten = connection.LogPipes.Remove((done.JobId, done.Attempt), out var donePipe) ? donePipe.Drained : Task.CompletedTask;
                _ = StoreDoneAsync(connection, done, logWritten);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Stores a job's end with its build, retrying while the build's grain moves (its silo died), then acknowledges it.</summary>
    private async Task StoreDoneAsync(AgentConnection connection, JobDoneFrame done, Task logWritten)
    {
        await logWritten.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Build(done.JobId, out var key) is not { } build) return;
        var artifacts = new List<ArtifactRecord>(done.Artifacts?.Count ?? 0);
        if (done.Artifacts is not null)
            foreach (var a in done.Artifacts) artifacts.Add(new ArtifactRecord(a.Name, a.Size, a.Sha256));
        var report = new JobReport(done.State, done.ExitStatus, done.LogLength, artifacts, done.Error, connection.Name);
        var delay = TimeSpan.FromMilliseconds(200);
        while (!connection.Ended && !_stopping.IsCancellationRequested)
        {
            try
            {
                if (await build.JobDone(key, done.Attempt, report))
                    connection.Send(AgentProtocol.Encode(new JobDoneAckFrame(done.JobId, done.Attempt)));
                return;
            }
            catch (Exception e)
            {
                LogJobEndNotStored(_logger, done.JobId, done.Attempt, e.Message);
            }
            try
            {
                await Task.Delay(delay, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromMilliseconds(Math.Min(2000, delay.TotalMilliseconds * 2));
        }
    }

    /// <summary>The build grain of a job id (<c>{build id}/{job key}</c>); null when the id has no build part.</summary>
    private IBuildGrain? Build(string jobId, out string key)
    {
        var slash = jobId.LastIndexOf('/');
        if (slash <= 0 || slash == jobId.Length - 1)
        {
            key = "";
            LogJobOfNoBuild(_logger, jobId);
            return null;
        }
        key = jobId[(slash + 1)..];
        return _grains.GetGrain<IBuildGrain>(jobId[..slash]);
    }

    private void SendToAgent(string agent, byte[] frame)
    {
        AgentConnection? connection;
        lock (_lock) _byName.TryGetValue(agent, out connection);
        if (connection is { Accepted: true, Ended: false }) connection.Send(frame);
        else LogJobAgentElsewhere(_logger, agent);
    }

    /// <summary>The queue's way to this hub's agents.</summary>
    [LoggerMessage(EventId = 3211, Level = LogLevel.Warning, Message = "agent hub: reporting job slots to the build queue failed ({Error}); retrying")]
    private static partial void LogSlotsNotReported(ILogger logger, string error);

    [LoggerMessage(EventId = 3212, Level = LogLevel.Warning, Message = "agent hub: storing the end of job {Job} attempt {Attempt} failed ({Error}); retrying")]
    private static partial void LogJobEndNotStored(ILogger logger, string job, int attempt, string error);

    [LoggerMessage(EventId = 3213, Level = LogLevel.Debug, Message = "agent hub: job id '{Job}' names no build; the frame is ignored")]
    private static partial void LogJobOfNoBuild(ILogger logger, string job);

    [LoggerMessage(EventId = 3214, Level = LogLevel.Debug, Message = "agent hub: agent {Agent} is not connected here; its job frame waits for the build's next check")]
    private static partial void LogJobAgentElsewhere(ILogger logger, string agent);

    private sealed class JobDispatch(AgentHub hub) : IJobDispatcher
    {
        public Task Dispatch(string agent, JobOrder order)
        {
            hub.SendToAgent(agent, AgentProtocol.Encode(new JobFrame(order.BuildId, order.JobId, order.Attempt, order.Repository, order.Commit,
                order.Branch, order.Step, order.Env, order.CancelGraceMs, order.CloneUrl)));
            return Task.CompletedTask;
        }

        public Task CancelJob(string agent, string jobId, int attempt)
        {
            hub.SendToAgent(agent, AgentProtocol.Encode(new JobCancelFrame(jobId, attempt)));
            return Task.CompletedTask;
        }
    }
}
