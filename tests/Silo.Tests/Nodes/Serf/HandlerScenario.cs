using System.Text;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>What one node's handler must have run for a step to be over: an event, and for member events the members it names.</summary>
public sealed record StepExpectation(string Node, string Event, params string[] Members)
{
    public override string ToString() => Members.Length == 0 ? $"{Node}: {Event}" : $"{Node}: {Event} [{string.Join(", ", Members)}]";
}

/// <summary>One step of the scenario: what is done, what it must cause, and the node it takes out of the cluster (if any).</summary>
public sealed record ScenarioStep(string Title, Func<IFleet, Task<string?>> Act, IReadOnlyList<StepExpectation> Expect, string? Departs = null);

/// <summary>What the handlers ran during one step (per node, oldest first), the command's output, and why the step did not finish if it did not.</summary>
public sealed record StepRecord(ScenarioStep Step, IReadOnlyDictionary<string, IReadOnlyList<HandlerInvocation>> Invocations, string? CommandOutput, string? Failure);

/// <summary>
/// The sequence both Serf and Platform go through: three nodes join one by one (with tags), a tag change, a user
/// event with payload, a query the handlers answer, a graceful leave, a kill -9, and a user event after both. Each
/// step's effect is awaited by polling the handlers' records (no sleeping); whatever the handlers ran until then
/// belongs to the step. Joins happen one at a time so that coalescing (on, as the default agent has it) groups the
/// same events on both sides.
/// </summary>
public static class HandlerScenario
{
    public static readonly NodeSpec Node1 = new("node1", [new("role", "web"), new("dc", "east")]);
    public static readonly NodeSpec Node2 = new("node2", [new("role", "db"), new("dc", "west")]);
    public static readonly NodeSpec Node3 = new("node3", [new("role", "web"), new("dc", "east")]);

    public static readonly IReadOnlyList<string> NodeNames = [Node1.Name, Node2.Name, Node3.Name];

    /// <summary>Time a step may take: failure detection is the slow one (Serf's LAN profile needs 10–20 s).</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public static IReadOnlyList<ScenarioStep> Steps { get; } =
    [
        new("node1 starts", async f => { await f.StartNodeAsync(Node1); return null; },
            [new("node1", "member-join", "node1")]),
        new("node2 joins", async f => { await f.StartNodeAsync(Node2); return null; },
            [new("node1", "member-join", "node2"), new("node2", "member-join", "node1", "node2")]),
        new("node3 joins", async f => { await f.StartNodeAsync(Node3); return null; },
            [new("node1", "member-join", "node3"), new("node2", "member-join", "node3"), new("node3", "member-join", "node1", "node2", "node3")]),
        new("tags -set version=2 -delete dc on node2", async f => { await f.SetTagsAsync("node2", [new("version", "2")], ["dc"]); return null; },
            [new("node1", "member-update", "node2"), new("node2", "member-update", "node2"), new("node3", "member-update", "node2")]),
        new("event deploy v1 (through node1)", async f => { await f.FireEventAsync("node1", "deploy", "v1"); return null; },
            [new("node1", "user"), new("node2", "user"), new("node3", "user")]),
        new("query load (through node1)", async f => await f.QueryAsync("node1", "load"),
            [new("node1", "query"), new("node2", "query"), new("node3", "query")]),
        new("node3 leaves gracefully", async f => { await f.LeaveAsync("node3"); return null; },
            [new("node1", "member-leave", "node3"), new("node2", "member-leave", "node3")], Departs: "node3"),
        new("node2 is killed (kill -9)", async f => { await f.KillAsync("node2"); return null; },
            [new("node1", "member-failed", "node2")], Departs: "node2"),
        new("event deploy v2 (through node1)", async f => { await f.FireEventAsync("node1", "deploy", "v2"); return null; },
            [new("node1", "user")]),
    ];

    /// <summary>Runs every step against <paramref name="fleet"/>; stops at the first step whose effect does not come (recorded as its failure).</summary>
    public static async Task<IReadOnlyList<StepRecord>> RunAsync(IFleet fleet)
    {
        var records = new List<StepRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var present = new List<string>();
        foreach (var step in Steps)
        {
            foreach (var e in step.Expect) if (!present.Contains(e.Node)) present.Add(e.Node);
            string? output = null;
            string? failure = null;
            try
            {
                output = await step.Act(fleet);
                failure = await WaitForAsync(fleet, step, present, seen);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            var invocations = new Dictionary<string, IReadOnlyList<HandlerInvocation>>(StringComparer.Ordinal);
            foreach (var node in present) invocations[node] = TakeNew(fleet, node, seen);
            records.Add(new StepRecord(step, invocations, output, failure));
            if (failure is not null) break;
            if (step.Departs is not null) present.Remove(step.Departs);
        }
        return records;
    }

    private static async Task<string?> WaitForAsync(IFleet fleet, ScenarioStep step, IReadOnlyList<string> present, HashSet<string> seen)
    {
        var deadline = DateTime.UtcNow + StepTimeout;
        while (true)
        {
            var missing = step.Expect.Where(e => !IsMet(e, New(fleet, e.Node, seen))).ToList();
            if (missing.Count == 0) return null;
            if (DateTime.UtcNow > deadline)
                return $"after {StepTimeout.TotalSeconds} s still waiting for: {string.Join("; ", missing)}";
            await Task.Delay(PollInterval);
        }
    }

    private static bool IsMet(StepExpectation expectation, IReadOnlyList<HandlerInvocation> invocations)
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        var any = false;
        foreach (var invocation in invocations)
        {
            if (invocation.Event != expectation.Event) continue;
            any = true;
            foreach (var line in Encoding.UTF8.GetString(invocation.StdIn).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                named.Add(line.Split('\t')[0]);
        }
        return any && expectation.Members.All(named.Contains);
    }

    private static List<HandlerInvocation> New(IFleet fleet, string node, HashSet<string> seen) =>
        [.. RecordingHandler.Read(fleet.NodeDir(node)).Where(i => !seen.Contains(node + "/" + i.Id))];

    private static List<HandlerInvocation> TakeNew(IFleet fleet, string node, HashSet<string> seen)
    {
        var result = New(fleet, node, seen);
        foreach (var i in result) seen.Add(node + "/" + i.Id);
        return result;
    }
}
