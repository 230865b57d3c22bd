namespace Platform.Grains.Builds;

/// <summary>
/// The queue's free room at one moment: each agent's free slots and each concurrency group's running count. Computed
/// once for a run of dispatches (or a view of thousands of waiting jobs) and kept up to date by <see cref="Take"/>, so
/// a dispatch does not recount every agent and lease.
/// </summary>
public sealed class QueueSlots
{
    private QueueSlots(IReadOnlyList<AgentSlots> agents, Dictionary<string, int> free, Dictionary<string, int> groups, int freeTotal)
    {
        Agents = agents;
        Free = free;
        Groups = groups;
        FreeTotal = freeTotal;
    }

    public IReadOnlyList<AgentSlots> Agents { get; }

    /// <summary>Free slots by agent name.</summary>
    public Dictionary<string, int> Free { get; }

    /// <summary>Running jobs by concurrency group.</summary>
    public Dictionary<string, int> Groups { get; }

    /// <summary>Free slots over every agent: none means no waiting job can go, whatever it asks for.</summary>
    public int FreeTotal { get; private set; }

    public static QueueSlots Of(QueueState queue, IReadOnlyList<AgentSlots> agents)
    {
        var free = new Dictionary<string, int>(agents.Count, StringComparer.Ordinal);
        foreach (var agent in agents) free[agent.Name] = agent.Slots;
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var lease in queue.Running)
        {
            if (free.TryGetValue(lease.Agent, out var slots)) free[lease.Agent] = slots - 1;
            if (lease.ConcurrencyGroup is { } group) groups[group] = groups.GetValueOrDefault(group) + 1;
        }
        var total = 0;
        foreach (var slots in free.Values) total += Math.Max(0, slots);
        return new QueueSlots(agents, free, groups, total);
    }

    /// <summary>A job of <paramref name="group"/> (none: null) took one slot of <paramref name="agent"/>.</summary>
    public void Take(string agent, string? group)
    {
        if (Free.TryGetValue(agent, out var slots))
        {
            Free[agent] = slots - 1;
            if (slots > 0) FreeTotal--;
        }
        if (group is not null) Groups[group] = Groups.GetValueOrDefault(group) + 1;
    }

    /// <summary>A slot taken by <see cref="Take"/> was given back (the job turned out not to run).</summary>
    public void Return(string agent, string? group)
    {
        if (Free.TryGetValue(agent, out var slots))
        {
            Free[agent] = slots + 1;
            if (slots >= 0) FreeTotal++;
        }
        if (group is not null && Groups.TryGetValue(group, out var running)) Groups[group] = running - 1;
    }
}
