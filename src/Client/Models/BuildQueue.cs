namespace Platform.Client;

/// <summary>The build queue as <c>GET /v1/queue</c> shows it (docs/builds.md, "The queue").</summary>
public sealed record BuildQueue(IReadOnlyList<QueuedJob> Waiting, IReadOnlyList<QueueLease> Running, IReadOnlyList<QueueAgent> Agents);

/// <summary>A job waiting in the queue and the reason it waits (<c>all 3 matching agents are busy</c>, …).</summary>
public sealed record QueuedJob(QueueTicket Ticket, string Reason);

/// <summary>An attempt of a job in the queue: what it needs of an agent.</summary>
public sealed record QueueTicket(
    string JobId,
    int Attempt,
    string BuildId,
    string Repository,
    string Branch,
    int Priority,
    IReadOnlyDictionary<string, string>? Agents,
    string? Image,
    string? ConcurrencyGroup,
    int Concurrency,
    DateTimeOffset Queued);

/// <summary>A running attempt and the agent slot it holds.</summary>
public sealed record QueueLease(string JobId, int Attempt, string Agent, string Repository, string? ConcurrencyGroup, DateTimeOffset Since);

/// <summary>A connected build agent: its tags, job slots, container engine (null: none) and node incarnation.</summary>
public sealed record QueueAgent(string Name, IReadOnlyDictionary<string, string>? Tags, int Slots, string? Engine, long Incarnation);
