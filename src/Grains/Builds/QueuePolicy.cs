using Platform.Builds.Pipelines;

namespace Platform.Grains.Builds;

/// <summary>
/// Which waiting job goes to which agent next (docs/builds.md, "The queue"): an agent takes a job when it has a free
/// slot, has every tag the job asks for and, for a job with an image, a container engine; a concurrency group runs at
/// most its limit at once. Higher priority goes first; among jobs of equal priority, repositories take turns
/// (round-robin in name order after the one served last), and within a repository the oldest job goes first.
/// </summary>
public static class QueuePolicy
{
    /// <summary>The next job to dispatch and its agent, or null when no waiting job can run now.</summary>
    public static (JobTicket Ticket, AgentSlots Agent)? Next(QueueState queue, IReadOnlyList<AgentSlots> agents)
        => Next(queue, QueueSlots.Of(queue, agents));

    /// <summary>The next job to dispatch and its agent given the room in <paramref name="slots"/>, or null.</summary>
    public static (JobTicket Ticket, AgentSlots Agent)? Next(QueueState queue, QueueSlots slots)
    {
        if (slots.FreeTotal == 0) return null;
        JobTicket? best = null;
        AgentSlots? bestAgent = null;
        // Most jobs ask for no tag and no image: once one such job found no agent, none of them will.
        var plainFits = true;
        foreach (var ticket in queue.Waiting)
        {
            if (best is not null && !Better(ticket, best, queue.LastRepository)) continue;
            if (!GroupHasRoom(ticket, slots.Groups)) continue;
            var plain = ticket.Agents.Count == 0 && ticket.Image is null;
            if (plain && !plainFits) continue;
            if (PickAgent(ticket, slots.Agents, slots.Free) is not { } agent)
            {
                if (plain) plainFits = false;
                continue;
            }
            best = ticket;
            bestAgent = agent;
        }
        return best is null ? null : (best, bestAgent!);
    }

    /// <summary>Takes <paramref name="ticket"/> off the queue and gives it a slot of <paramref name="agent"/>.</summary>
    public static JobLease Lease(QueueState queue, JobTicket ticket, string agent, DateTimeOffset now, QueueSlots? slots = null)
    {
        var lease = new JobLease(ticket.JobId, ticket.Attempt, agent, ticket.Repository, ticket.ConcurrencyGroup, now);
        queue.Waiting.Remove(ticket);
        queue.Running.Add(lease);
        queue.LastRepository = ticket.Repository;
        slots?.Take(agent, ticket.ConcurrencyGroup);
        return lease;
    }

    /// <summary>Why <paramref name="ticket"/> is still waiting, in words for <c>GET /v1/queue</c>.</summary>
    public static string WhyWaiting(JobTicket ticket, QueueState queue, IReadOnlyList<AgentSlots> agents)
        => WhyWaiting(ticket, QueueSlots.Of(queue, agents));

    /// <summary>Why <paramref name="ticket"/> is still waiting, given the room in <paramref name="slots"/>.</summary>
    public static string WhyWaiting(JobTicket ticket, QueueSlots slots)
    {
        var matching = 0;
        var withEngine = 0;
        var idle = 0;
        foreach (var agent in slots.Agents)
        {
            if (!TagsMatch(ticket.Agents, agent.Tags)) continue;
            matching++;
            if (ticket.Image is not null && agent.Engine is null) continue;
            withEngine++;
            if (slots.Free.GetValueOrDefault(agent.Name) > 0) idle++;
        }
        if (matching == 0)
            return ticket.Agents.Count == 0 ? "no agent with job slots is connected" : $"no connected agent with job slots has the tags {Tags(ticket.Agents)}";
        if (withEngine == 0) return $"the step runs in image '{ticket.Image}': none of the {matching} matching agents has a container engine";
        if (!GroupHasRoom(ticket, slots.Groups))
            return $"concurrency group '{ticket.ConcurrencyGroup}' is full ({ticket.Concurrency} running)";
        if (idle == 0) return $"all {withEngine} matching agents are busy";
        return "waiting its turn: higher priorities first, then repositories take turns";
    }

    /// <summary>Buildkite's agent targeting: the agent has every tag the step names, each value matching its '*' pattern.</summary>
    public static bool TagsMatch(IReadOnlyDictionary<string, string> wanted, IReadOnlyDictionary<string, string> tags)
    {
        foreach (var (name, pattern) in wanted)
            if (!tags.TryGetValue(name, out var value) || !Glob.Matches(pattern, value)) return false;
        return true;
    }

    private static string Tags(Dictionary<string, string> tags) => string.Join(",", tags.Select(t => $"{t.Key}={t.Value}"));

    /// <summary>Whether <paramref name="a"/> goes before <paramref name="b"/>: priority, then the repositories' turn, then age (list order).</summary>
    private static bool Better(JobTicket a, JobTicket b, string? last)
    {
        if (a.Priority != b.Priority) return a.Priority > b.Priority;
        if (a.Repository == b.Repository) return false;
        var (turnA, turnB) = (Turn(a.Repository, last), Turn(b.Repository, last));
        return turnA != turnB ? turnA < turnB : string.CompareOrdinal(a.Repository, b.Repository) < 0;
    }

    /// <summary>A repository's round in the round-robin: names after the last served come in this round, the others (the last served too) in the next.</summary>
    private static int Turn(string repository, string? last) => last is null || string.CompareOrdinal(repository, last) > 0 ? 0 : 1;

    private static bool GroupHasRoom(JobTicket ticket, Dictionary<string, int> groups)
        => ticket.ConcurrencyGroup is not { } group || groups.GetValueOrDefault(group) < Math.Max(1, ticket.Concurrency);

    private static AgentSlots? PickAgent(JobTicket ticket, IReadOnlyList<AgentSlots> agents, Dictionary<string, int> free)
    {
        AgentSlots? best = null;
        var bestFree = 0;
        foreach (var agent in agents)
        {
            var slots = free.GetValueOrDefault(agent.Name);
            if (slots <= 0 || (ticket.Image is not null && agent.Engine is null) || !TagsMatch(ticket.Agents, agent.Tags)) continue;
            // The agent with the most free slots: work spreads over the fleet.
            if (best is null || slots > bestFree || (slots == bestFree && string.CompareOrdinal(agent.Name, best.Name) < 0))
            {
                best = agent;
                bestFree = slots;
            }
        }
        return best;
    }
}
