using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime;
using Platform.Runtime.Catalog;
using Platform.Runtime.Storage;

namespace Platform.Grains.Builds;

/// <summary>
/// Matches waiting jobs to agents' free slots by <see cref="QueuePolicy"/>. A dispatch is first confirmed by the job's
/// build (which records the agent and answers the order), then recorded here, then sent: after a crash at any point the
/// build's record decides, and an order sent twice is the same attempt, which an agent never runs twice.
/// </summary>
/// <remarks>
/// Reentrant, so that thousands of jobs queued or ended at once share the writes of the queue's state (group commit):
/// a write per call would rewrite every waiting ticket each time, quadratic in the queue's length. One dispatch run at a
/// time confirms a batch of jobs with their builds together and records them in one write before sending them.
/// </remarks>
[Reentrant]
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
    private GroupCommit? _commits;
    private bool _pumping;
    private bool _pumpAgain;
    private long _toldAt;
    private bool _changePending;

    /// <summary>Leases of the dispatch batch whose builds are confirming them: not ended, whatever their builds say yet.</summary>
    private readonly HashSet<JobLease> _confirming = [];

    /// <summary>Jobs confirmed with their builds at once, then recorded in one write, in a dispatch run.</summary>
    internal const int DispatchBatch = 64;

    /// <summary>The least time between two reports of the queue's contents (counters and the builds' feed) in a burst.</summary>
    private static readonly TimeSpan ChangeInterval = TimeSpan.FromMilliseconds(100);

    private QueueState Q => state.State;

    /// <summary>Every write of the queue's state goes through here: changes made while one is in flight share the next.</summary>
    private GroupCommit Commits => _commits ??= new GroupCommit(state.WriteStateAsync);

    /// <summary>This silo's build counters, which show the queue's depth; none when the host registers none (unit tests).</summary>
    private BuildCounters? Counters => ServiceProvider.GetService(typeof(BuildCounters)) as BuildCounters;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RegisterGrainTimer(_ => Tick(), _options.QueueCheckInterval, _options.QueueCheckInterval);
        RegisterGrainTimer(_ => TellPendingChange(), ChangeInterval, ChangeInterval);
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
        await Commits.CommitAsync();
        Changed();
        await Pump();
    }

    public async Task Withdraw(string jobId, int attempt)
    {
        var removed = Q.Waiting.RemoveAll(t => t.JobId == jobId && t.Attempt <= attempt)
            + Q.Running.RemoveAll(l => l.JobId == jobId && l.Attempt <= attempt);
        if (removed == 0) return;
        await Commits.CommitAsync();
        Changed();
        await Pump();
    }

    public async Task UpdateAgents(IJobDispatcher hub, string hubKey, List<AgentSlots> agents)
    {
        ArgumentNullException.ThrowIfNull(agents);
        var now = DateTimeOffset.UtcNow;
        var changed = false;
        List<string>? gone = null;
        var reported = new HashSet<string>(agents.Count, StringComparer.Ordinal);
        foreach (var agent in agents) reported.Add(agent.Name);
        foreach (var (name, entry) in _agents)
            if (entry.HubKey == hubKey && !reported.Contains(name)) (gone ??= []).Add(name);
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
        Changed();
        await Pump();
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
        var slots = QueueSlots.Of(Q, agents);
        var waiting = new List<WaitingJob>(Q.Waiting.Count);
        foreach (var ticket in Q.Waiting) waiting.Add(new WaitingJob(ticket, QueuePolicy.WhyWaiting(ticket, slots)));
        return Task.FromResult(new QueueView(waiting, [.. Q.Running], agents));
    }

    /// <summary>
    /// Dispatches while a waiting job fits a free slot; true when it dispatched or dropped one. A call made while another
    /// runs returns at once and the running one goes round again, so changes made meanwhile are seen.
    /// </summary>
    private async Task<bool> Pump()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return false;
        }
        _pumping = true;
        var moved = false;
        try
        {
            var failed = false;
            do
            {
                _pumpAgain = false;
                while (await DispatchBatchAsync() is var (batchMoved, more, batchFailed))
                {
                    moved |= batchMoved;
                    failed |= batchFailed;
                    if (!more || failed) break;
                }
            }
            // After a build that did not answer, the next tick tries again rather than this loop at once.
            while (_pumpAgain && !failed);
        }
        finally
        {
            _pumping = false;
        }
        if (moved) Changed();
        return moved;
    }

    /// <summary>
    /// Leases up to <see cref="DispatchBatch"/> jobs, has their builds confirm them together, records the outcome in one
    /// write and sends the confirmed orders. Moved: a job was sent or dropped; more: the batch was full; failed: a build
    /// did not answer.
    /// </summary>
    private async Task<(bool Moved, bool More, bool Failed)> DispatchBatchAsync()
    {
        var slots = QueueSlots.Of(Q, LiveAgents());
        var batch = new List<(JobTicket Ticket, JobLease Lease, AgentSlots Agent)>();
        while (batch.Count < DispatchBatch && QueuePolicy.Next(Q, slots) is { } next)
        {
            batch.Add((next.Ticket, QueuePolicy.Lease(Q, next.Ticket, next.Agent.Name, DateTimeOffset.UtcNow, slots), next.Agent));
        }
        if (batch.Count == 0) return (false, false, false);

        foreach (var (_, lease, _) in batch) _confirming.Add(lease);
        (bool Answered, JobOrder? Order)[] confirmed;
        try
        {
            confirmed = await Task.WhenAll(batch.Select(b => ConfirmAsync(b.Ticket, b.Agent)));
        }
        finally
        {
            _confirming.Clear();
        }
        var orders = new List<(string Agent, JobOrder Order)>(batch.Count);
        var unanswered = false;
        var dropped = false;
        for (var i = 0; i < batch.Count; i++)
        {
            var (ticket, lease, agent) = batch[i];
            var (answered, order) = confirmed[i];
            if (!answered)
            {
                // Its build's silo may have just died: the ticket waits again, and the next tick tries again.
                unanswered = true;
                if (Q.Running.Remove(lease) && !Q.Waiting.Exists(t => t.JobId == ticket.JobId)) WaitAgain(ticket);
            }
            else if (order is null)
            {
                dropped |= Q.Running.Remove(lease);
            }
            else if (Q.Running.Contains(lease))
            {
                // Still leased: no withdrawal (a cancel) came while its build confirmed it.
                orders.Add((agent.Name, order));
            }
        }
        await Commits.CommitAsync();
        foreach (var (agent, order) in orders)
            if (_agents.TryGetValue(agent, out var entry)) Send(entry.Hub.Dispatch(agent, order));
        return (orders.Count != 0 || dropped, batch.Count == DispatchBatch, unanswered);
    }

    /// <summary>Puts a ticket back among the waiting in its place by age, so that it keeps its turn.</summary>
    private void WaitAgain(JobTicket ticket)
    {
        var at = Q.Waiting.FindIndex(t => t.Queued > ticket.Queued);
        Q.Waiting.Insert(at < 0 ? Q.Waiting.Count : at, ticket);
    }

    /// <summary>The build's confirmation of a job for an agent: its order, or none when the job is not to run; not answered when the call failed.</summary>
    private async Task<(bool Answered, JobOrder? Order)> ConfirmAsync(JobTicket ticket, AgentSlots agent)
    {
        var slash = ticket.JobId.LastIndexOf('/');
        try
        {
            return (true, await GrainFactory.GetGrain<IBuildGrain>(ticket.BuildId)
                .Assign(ticket.JobId[(slash + 1)..], ticket.Attempt, agent.Name, agent.Incarnation));
        }
        catch (Exception e)
        {
            LogJobNotConfirmed(logger, e, ticket.BuildId, ticket.JobId);
            return (false, null);
        }
    }

    /// <summary>Dispatches what a lost message left waiting, and now and then frees the slots of jobs that ended without a word here.</summary>
    private async Task Tick()
    {
        if (++_ticks % _options.LeaseCheckEvery == 0) await DropEndedLeases();
        await Pump();
    }

    private async Task DropEndedLeases()
    {
        var ended = new List<JobLease>();
        // A copy: calls that interleave with these checks change the list.
        foreach (var lease in Q.Running.ToArray())
        {
            // Its build has not recorded the agent yet: asking it now would take the lease for an ended one.
            if (_confirming.Contains(lease)) continue;
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
        await Commits.CommitAsync();
        Changed();
    }

    /// <summary>
    /// Tells the counters and the builds' feed that what <see cref="View"/> shows changed (followers of /v1/queue read it
    /// again): at once when the queue was quiet, else at most every <see cref="ChangeInterval"/>, since each report reads
    /// every waiting job.
    /// </summary>
    private void Changed()
    {
        if (Environment.TickCount64 - _toldAt >= (long)ChangeInterval.TotalMilliseconds) TellChange();
        else _changePending = true;
    }

    private Task TellPendingChange()
    {
        if (_changePending) TellChange();
        return Task.CompletedTask;
    }

    private void TellChange()
    {
        _changePending = false;
        _toldAt = Environment.TickCount64;
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
