using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>
/// The build queue (<c>buildqueue/default</c>): waiting jobs and the slots they hold are durable; the agents and their
/// slots are what the silos' hubs report, renewed every few seconds.
/// </summary>
public interface IBuildQueueGrain : IGrainWithStringKey
{
    /// <summary>Queues an attempt of a job (again: a ticket already waiting or running is kept as it is).</summary>
    [OneWay]
    Task Enqueue(JobTicket ticket);

    /// <summary>The attempt ended or will not run: it leaves the queue and frees its slot.</summary>
    [OneWay]
    Task Withdraw(string jobId, int attempt);

    /// <summary>Hub <paramref name="hubKey"/> holds these agents (every one of them: the others it reported before are gone).</summary>
    Task UpdateAgents(IJobDispatcher hub, string hubKey, List<AgentSlots> agents);

    /// <summary>Sends a job order to <paramref name="agent"/> through its hub (again: the agent runs an attempt once).</summary>
    [OneWay]
    Task Deliver(string agent, JobOrder order);

    /// <summary>Tells <paramref name="agent"/> to cancel an attempt.</summary>
    [OneWay]
    Task CancelJob(string agent, string jobId, int attempt);

    /// <summary>Waiting jobs with the reason each waits, running jobs and agents.</summary>
    [ReadOnly]
    Task<QueueView> View();
}

/// <summary>What a silo's agent hub does for the queue: send a job or a cancel to an agent it holds.</summary>
public interface IJobDispatcher : IGrainObserver
{
    [OneWay]
    Task Dispatch(string agent, JobOrder order);

    [OneWay]
    Task CancelJob(string agent, string jobId, int attempt);
}

/// <summary>A job for an agent (the <c>job</c> frame): the repository at a commit and the step to run, never a command.</summary>
public sealed record JobOrder(
    string BuildId,
    string JobId,
    int Attempt,
    string Repository,
    string CloneUrl,
    string Commit,
    string Branch,
    string? Step,
    Dictionary<string, string> Env,
    int CancelGraceMs);

/// <summary>The queue as <c>GET /v1/queue</c> shows it.</summary>
public sealed record QueueView(List<WaitingJob> Waiting, List<JobLease> Running, List<AgentSlots> Agents);

/// <summary>A waiting job and why it waits.</summary>
public sealed record WaitingJob(JobTicket Ticket, string Reason);
