namespace Platform.Nodes.Bench;

/// <summary>
/// (c) One agent of the cluster is killed (SIGKILL) or stopped (SIGSTOP: the process hangs, its socket stays open);
/// measured from the signal to the member-failed handler having run on every other agent. The victim is then
/// restarted (or continued) and awaited alive before the next round; victims rotate over nodes 1..N-1. A round starts
/// only once every node has run the member-join handler for the previous victim's return (and a restarted victim its
/// own first member-join): otherwise that handler, still held in a coalescing window or running, is timed as part of
/// the next failure, on a node that is a freshly started process besides.
/// </summary>
public static class FailureDetection
{
    public static async Task RunAsync(IAgentCluster cluster, int rounds, Report report)
    {
        foreach (var stop in new[] { false, true })
        {
            var perNode = new List<double>();
            var toAll = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var victim = 1 + round % (cluster.Nodes.Count - 1);
                var name = cluster.Nodes[victim];
                var others = cluster.Nodes.Where(n => n != name).ToList();
                var t0 = UnixClock.NowNanos();
                if (stop) cluster.Signal(victim, ChildProcess.SIGSTOP);
                else await cluster.KillAsync(victim);
                var ran = await cluster.Stamps.WaitForAsync(others, t0, s => s.Event == "member-failed" && s.Subjects.Contains(name), TimeSpan.FromSeconds(90),
                    $"{cluster.Name}: member-failed of {name} after {(stop ? "SIGSTOP" : "SIGKILL")}", cluster.Tail);
                var ms = ran.Values.Select(t => UnixClock.MillisBetween(t0, t)).ToList();
                perNode.AddRange(ms);
                toAll.Add(ms.Max());
                Console.WriteLine($"    {cluster.Name} {(stop ? "kill -STOP" : "kill -9")} {name}: all {others.Count} handlers ran after {Latencies.Ms(ms.Max())} ms");
                var back = UnixClock.NowNanos();
                if (stop) cluster.Signal(victim, ChildProcess.SIGCONT);
                else await cluster.RestartAsync(victim);
                await cluster.WaitAliveAsync(victim, TimeSpan.FromSeconds(120));
                // A continued victim sees no join of its own (its view of itself never changed); a restarted one does.
                await cluster.Stamps.WaitForAsync(stop ? others : cluster.Nodes, back, s => s.Event == "member-join" && s.Subjects.Contains(name), TimeSpan.FromSeconds(90),
                    $"{cluster.Name}: member-join of {name} after it came back", cluster.Tail);
            }
            var all = new Latencies(toAll);
            report.Add($"{(stop ? "kill -STOP" : "kill -9")} → member-failed ran on all others", cluster.Name, cluster.Nodes.Count, rounds, new Latencies(perNode),
                $"time to all others: median {Latencies.Ms(all.P50)} ms, max {Latencies.Ms(all.Max)} ms");
        }
    }
}
