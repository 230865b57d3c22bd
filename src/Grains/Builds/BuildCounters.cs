namespace Platform.Grains.Builds;

/// <summary>
/// Builds started and finished on this silo's build grains, and the queue as the queue grain last saw it when it runs
/// here; read by the silo's meter when a scrape asks (docs/operations.md, "Telemetry").
/// </summary>
public sealed class BuildCounters
{
    /// <summary>The states a build ends in, in the order <see cref="Finished"/> answers them.</summary>
    public static readonly string[] Results = [JobStates.Passed, JobStates.Failed, JobStates.Canceled, JobStates.Skipped];

    /// <summary>The label of waiting jobs that ask for no agent tag.</summary>
    public const string AnyAgent = "any";

    private readonly long[] _finished = new long[4];
    private long _started;
    private readonly object _queueLock = new();
    private Dictionary<string, int> _waiting = new(StringComparer.Ordinal) { [AnyAgent] = 0 };
    private int _running;

    /// <summary>Builds created or retried: started minus finished is what is in progress.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Builds ended, by result (<see cref="Results"/>'s order).</summary>
    public long Finished(int result) => Interlocked.Read(ref _finished[result]);

    /// <summary>Jobs waiting for an agent by the agent tags they ask for ("any" for none); a tag set seen once stays, at 0 when none waits.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Waiting()
    {
        lock (_queueLock) return [.. _waiting];
    }

    /// <summary>Jobs holding an agent's slot.</summary>
    public int Running => Volatile.Read(ref _running);

    internal void OnStarted() => Interlocked.Increment(ref _started);

    internal void OnFinished(string result)
    {
        var i = Array.IndexOf(Results, result);
        if (i >= 0) Interlocked.Increment(ref _finished[i]);
    }

    /// <summary>The queue as its grain holds it now (it runs on one silo at a time; it reports nothing waiting when it leaves).</summary>
    internal void OnQueue(IEnumerable<JobTicket> waiting, int running)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ticket in waiting)
        {
            var key = AgentsLabel(ticket.Agents);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        lock (_queueLock)
        {
            var next = new Dictionary<string, int>(_waiting.Count, StringComparer.Ordinal);
            // Tag sets seen before are kept at 0, so a scrape shows the queue emptied rather than an old value.
            foreach (var key in _waiting.Keys) next[key] = 0;
            foreach (var (key, count) in counts) next[key] = count;
            _waiting = next;
        }
        Volatile.Write(ref _running, running);
    }

    /// <summary>The tags a job asks for as <c>k=v,k=v</c> in key order.</summary>
    private static string AgentsLabel(Dictionary<string, string> agents)
        => agents.Count == 0 ? AnyAgent : string.Join(",", agents.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
}
