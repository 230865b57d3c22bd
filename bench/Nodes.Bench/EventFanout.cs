namespace Platform.Nodes.Bench;

/// <summary>
/// (b) A user event from the request that fires it to the handler having run on every agent, real agents with the
/// stamp handler: <c>serf event -coalesce=false</c> through node 0 (the command's start included) against
/// <c>POST /v1/events/{name}?coalesce=false</c>. Rounds alternate between the clusters so both see the same machine.
/// </summary>
public static class EventFanout
{
    public static async Task RunAsync(IReadOnlyList<IAgentCluster> clusters, int rounds, Report report)
    {
        var samples = clusters.ToDictionary(c => c.Name, _ => new List<double>());
        var lasts = clusters.ToDictionary(c => c.Name, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var cluster in clusters)
            {
                var name = $"bench-{round}";
                var t0 = await cluster.FireEventAsync(name);
                var ran = await cluster.Stamps.WaitForAsync(cluster.Nodes, t0, s => s.Event == "user" && s.Subjects.Count > 0 && s.Subjects[0] == name, TimeSpan.FromSeconds(60), $"{cluster.Name} user event {name}", cluster.Tail);
                var ms = ran.Values.Select(t => UnixClock.MillisBetween(t0, t)).ToList();
                samples[cluster.Name].AddRange(ms);
                lasts[cluster.Name].Add(ms.Max());
            }
        }
        foreach (var cluster in clusters)
        {
            var last = new Latencies(lasts[cluster.Name]);
            report.Add("user event → handler ran, every agent", cluster.Name, cluster.Nodes.Count, rounds, new Latencies(samples[cluster.Name]),
                $"time to the last agent: median {Latencies.Ms(last.P50)} ms, max {Latencies.Ms(last.Max)} ms");
        }
    }
}
