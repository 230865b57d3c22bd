namespace Platform.Grains.Builds;

/// <summary>The queue's durable state: the jobs waiting for an agent and the jobs holding an agent's slot.</summary>
public sealed class QueueState
{
    /// <summary>Waiting jobs in arrival order.</summary>
    public List<JobTicket> Waiting { get; set; } = [];

    public List<JobLease> Running { get; set; } = [];

    /// <summary>The repository served last: the next turn goes to the one after it (round-robin).</summary>
    public string? LastRepository { get; set; }
}

/// <summary>A job waiting for an agent: what it needs (tags, a container engine, room in its concurrency group) and its priority.</summary>
public sealed record JobTicket(
    string JobId,
    int Attempt,
    string BuildId,
    string Repository,
    string Branch,
    int Priority,
    Dictionary<string, string> Agents,
    string? Image,
    string? ConcurrencyGroup,
    int Concurrency,
    DateTimeOffset Queued);

/// <summary>A job given to an agent: it holds one of the agent's slots (and a place in its concurrency group) until it ends.</summary>
public sealed record JobLease(string JobId, int Attempt, string Agent, string Repository, string? ConcurrencyGroup, DateTimeOffset Since);

/// <summary>An agent as its hub reports it: its tags, its slots (<c>job-capacity</c>), its container engine and its node's incarnation.</summary>
public sealed record AgentSlots(string Name, Dictionary<string, string> Tags, int Slots, string? Engine, long Incarnation);
