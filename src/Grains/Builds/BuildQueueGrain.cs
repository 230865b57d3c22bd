using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;
using Platform.Runtime.Catalog;

namespace Platform.Grains.Builds;

/// <summary>
/// Matches waiting jobs to agents' free slots by <see cref="QueuePolicy"/>. A dispatch is first confirmed by the job's
/// build (which records the agent and answers the order), then recorded here, then sent: after a crash at any point the
/// build's record decides, and an order sent twice is the same attempt, which an agent never runs twice.
/// </summary>
[GrainType("buildqueue")]
internal sealed partial class BuildQueueGrain(
    [PersistentState("queue")] IPersistentState<QueueState> state,
    IOptions<BuildsOptions> options,
    ILogger<BuildQueueGrain> logger) : Grain, IBuildQueueGrain
{
    public const string DefaultKey = "default";

    private readonly BuildsOptions _options = options.Value;
    private readonly Dictionary<string, AgentEntry> _agents = new(StringComparer.Ordinal);
    private int _ticks;

    private QueueState Q => state.State;

    /// <summary>This silo's build counters, which show the queue's depth; none when the host registers none (unit tests).</summary>
    private BuildCounters? Counters => ServiceProvider.GetService(typeof(BuildCounters)) as BuildCounters;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RegisterGrainTimer(_ => Tick(), _options.QueueCheckInterval, _options.QueueCheckInterval);
        Counters?.OnQueue(Q.Waiting, Q.Running.Count);
        return Task.CompletedTask;
    }

    /// <summary>The queue is shown by the silo it runs on: one that no longer runs it shows nothing waiting.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Counters?.OnQueue([], 0);
        return Task.CompletedTask;
    }

    public async Task Enqueue(JobTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        foreach (var lease in Q.Running)
            if (lease.JobId == ticket.JobId && lease.Attempt >= ticket.Attempt) return;
        var at = Q.Waiting.FindIndex(t => t.JobId == ticket.JobId);
        if (at >= 0 && Q.Waiting[at].Attempt >= ticket.Attempt) return;
        if (at >= 0) Q.Waiting.RemoveAt(at);
        Q.Waiting.Add(ticket);
        await state.WriteStateAsync();
        await Pump();
        Changed();
    }

    public async Task Withdraw(string jobId, int attempt)
    {
        var removed = Q.Waiting.RemoveAll(t => t.JobId == jobId && t.Attempt <= attempt)
            + Q.Running.RemoveAll(l => l.JobId == jobId && l.Attempt <= attempt);
        if (removed == 0) return;
        await state.WriteStateAsync();
        await Pump();
        Changed();
    }

    public async Task UpdateAgents(IJobDispatcher hub, string hubKey, List<AgentSlots> agents)
    {
        ArgumentNullException.ThrowIfNull(agents);
        var now = DateTimeOffset.UtcNow;
        var changed = false;
        List<string>? gone = null;
        foreach (var (name, entry) in _agents)
            if (entry.HubKey == hubKey && !agents.Exists(a => a.Name == name)) (gone ??= []).Add(name);
        if (gone is not null)
        {
            foreach (var name in gone) _agents.Remove(name);
            changed = true;
        }
        foreach (var agent in agents)
        {
            changed |= !_agents.TryGetValue(agent.Name, out var old) || old.HubKey != hubKey || !Same(old.Slots, agent);
            _agents[agent.Name] = new AgentEntry(agent, hub, hubKey, now);
        }
        if (!changed) return;
        await Pump();
        Changed();
    }

    public Task Deliver(string agent, JobOrder order)
    {
        if (_agents.TryGetValue(agent, out var entry)) Send(entry.Hub.Dispatch(agent, order));
        return Task.CompletedTask;
    }

    public Task CancelJob(string agent, string jobId, int attempt)
    {
        if (_agents.TryGetValue(agent, out var entry)) Send(entry.Hub.CancelJob(agent, jobId, attempt));
        return Task.CompletedTask;
    }

    public Task<QueueView> View()
    {
        var agents = LiveAgents();
        var waiting = new List<WaitingJob>(Q.Waiting.Count);
        foreach (var ticket in Q.Waiting) waiting.Add(new WaitingJob(ticket, QueuePolicy.WhyWaiting(ticket, Q, agents)));
        return Task.FromResult(new QueueView(waiting, [.. Q.Running], agents));
    }

    /// <summary>Dispatches while a waiting job fits a free slot; true when it dispatched or dropped one.</summary>
    private async Task<bool> Pump()
    {
        var moved = false;
        while (QueuePolicy.Next(Q, LiveAgents()) is { } next)
        {
            var (ticket, agent) = next;
            var slash = ticket.JobId.LastIndexOf('/');
            JobOrder? order;
            try
            {
                order = await GrainFactory.GetGrain<IBuildGrain>(ticket.BuildId)
                    .Assign(ticket.JobId[(slash + 1)..], ticket.Attempt, agent.Name, agent.Incarnation);
            }
            catch (Exception e)
            {
                // The build's silo may have just died: the ticket stays, and the next tick tries again.
                LogJobNotConfirmed(logger, e, ticket.BuildId, ticket.JobId);
                return moved;
            }
            if (order is null) Q.Waiting.Remove(ticket);
            else QueuePolicy.Lease(Q, ticket, agent.Name, DateTimeOffset.UtcNow);
            await state.WriteStateAsync();
            if (order is not null) Send(_agents[agent.Name].Hub.Dispatch(agent.Name, order));
            moved = true;
        }
        return moved;
    }

    /// <summary>Dispatches what a lost message left waiting, and now and then frees the slots of jobs that ended without a word here.</summary>
    private async Task Tick()
    {
        if (++_ticks % _options.LeaseCheckEvery == 0) await DropEndedLeases();
        if (await Pump()) Changed();
    }

    private async Task DropEndedLeases()
    {
        var ended = new List<JobLease>();
        foreach (var lease in Q.Running)
        {
            var slash = lease.JobId.LastIndexOf('/');
            try
            {
                var attempt = await GrainFactory.GetGrain<IBuildGrain>(lease.JobId[..slash]).AttemptOnAgent(lease.JobId[(slash + 1)..]);
                if (attempt != lease.Attempt) ended.Add(lease);
            }
            catch (Exception e)
            {
                LogJobCheckFailed(logger, e, lease.JobId);
            }
        }
        if (ended.Count == 0) return;
        foreach (var lease in ended) Q.Running.Remove(lease);
        await state.WriteStateAsync();
        Changed();
    }

    /// <summary>Tells the builds' feed that what <see cref="View"/> shows changed (followers of /v1/queue read it again).</summary>
    private void Changed()
    {
        Counters?.OnQueue(Q.Waiting, Q.Running.Count);
        GrainFactory.GetGrain<IBuildFeedGrain>(BuildFeedGrain.DefaultKey).QueueChanged().Ignore(logger);
    }

    private List<AgentSlots> LiveAgents()
    {
        var stale = DateTimeOffset.UtcNow - _options.AgentRenewal * 3;
        var live = new List<AgentSlots>(_agents.Count);
        foreach (var entry in _agents.Values)
            if (entry.Renewed >= stale) live.Add(entry.Slots);
        return live;
    }

    private static bool Same(AgentSlots a, AgentSlots b)
        => a.Slots == b.Slots && a.Engine == b.Engine && a.Incarnation == b.Incarnation && a.Tags.Count == b.Tags.Count
            && a.Tags.All(t => b.Tags.TryGetValue(t.Key, out var v) && v == t.Value);

    private void Send(Task call)
        => _ = call.ContinueWith(static (t, s) => LogHubMessageFailed((ILogger)s!, t.Exception),
            logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private sealed record AgentEntry(AgentSlots Slots, IJobDispatcher Hub, string HubKey, DateTimeOffset Renewed);
}
