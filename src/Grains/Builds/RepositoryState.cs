namespace Platform.Grains.Builds;

/// <summary>
/// A repository's durable state. The hook secret is stored as given, protected by the grain store's access like every
/// token hash and key; it is never logged and no API returns it (docs/builds.md, "Repositories").
/// </summary>
public sealed class RepositoryState
{
    public bool Registered { get; set; }
    public string CloneUrl { get; set; } = "";
    public string? Secret { get; set; }

    /// <summary>A newer push to a branch also cancels the branch's running build (queued ones are always skipped).</summary>
    public bool CancelRunning { get; set; }

    /// <summary>The priority of this repository's builds (higher goes first).</summary>
    public int Priority { get; set; }
    public int NextNumber { get; set; } = 1;

    /// <summary>The latest hook delivery ids, oldest first (bounded): a redelivery queues nothing.</summary>
    public List<string> Deliveries { get; set; } = [];

    /// <summary>The latest idempotency keys of builds started by rules, oldest first (bounded like the deliveries), with their build ids.</summary>
    public List<KeyValuePair<string, string>> StartedByKey { get; set; } = [];

    /// <summary>Per branch, the numbers of its latest builds (bounded): the ones a newer push supersedes.</summary>
    public Dictionary<string, List<int>> BranchBuilds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The latest build numbers, oldest first (bounded): the listing.</summary>
    public List<int> Recent { get; set; } = [];
}
