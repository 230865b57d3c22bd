using Platform.Grains.Builds;

namespace Platform.Grains.Tests.Builds;

public sealed class QueuePolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static int s_seq;

    private static JobTicket Ticket(string repo, int priority = 0, Dictionary<string, string>? agents = null, string? image = null, string? group = null, int concurrency = 0)
    {
        var n = Interlocked.Increment(ref s_seq);
        return new JobTicket($"{repo}/{n}/step", 1, $"{repo}/{n}", repo, "main", priority, agents ?? [], image, group, concurrency, Now.AddSeconds(n));
    }

    private static AgentSlots Agent(string name, int slots = 1, string? engine = null, Dictionary<string, string>? tags = null) =>
        new(name, tags ?? [], slots, engine, 1);

    /// <summary>Dispatches until nothing fits, ending each job at once so its slot is free again; the repositories in dispatch order.</summary>
    private static List<string> DrainWithOneSlot(QueueState queue, int dispatches)
    {
        var agents = new List<AgentSlots> { Agent("n1") };
        var order = new List<string>();
        for (var i = 0; i < dispatches && QueuePolicy.Next(queue, agents) is { } next; i++)
        {
            QueuePolicy.Lease(queue, next.Ticket, next.Agent.Name, Now);
            order.Add(next.Ticket.Repository);
            queue.Running.Clear();
        }
        return order;
    }

    [Fact]
    public void One_busy_repository_does_not_starve_another()
    {
        var queue = new QueueState();
        for (var i = 0; i < 100; i++) queue.Waiting.Add(Ticket("busy/app"));
        queue.Waiting.Add(Ticket("quiet/lib"));
        queue.Waiting.Add(Ticket("quiet/lib"));
        queue.Waiting.Add(Ticket("other/svc"));

        var order = DrainWithOneSlot(queue, 6);

        // Repositories take turns: each repository with waiting jobs gets one per round.
        Assert.Equal(["busy/app", "other/svc", "quiet/lib", "busy/app", "quiet/lib", "busy/app"], order);
    }

    [Fact]
    public void Jobs_of_one_repository_go_oldest_first()
    {
        var queue = new QueueState();
        var first = Ticket("team/app");
        var second = Ticket("team/app");
        queue.Waiting.AddRange([first, second]);
        Assert.Equal(first, QueuePolicy.Next(queue, [Agent("n1")])!.Value.Ticket);
    }

    [Fact]
    public void Higher_priority_goes_before_the_repositories_turn()
    {
        var queue = new QueueState { LastRepository = "a/x" };
        queue.Waiting.Add(Ticket("b/y"));
        var urgent = Ticket("a/x", priority: 5);
        queue.Waiting.Add(urgent);
        Assert.Equal(urgent, QueuePolicy.Next(queue, [Agent("n1")])!.Value.Ticket);
    }

    [Fact]
    public void Job_goes_only_to_an_agent_whose_tags_match()
    {
        var queue = new QueueState();
        queue.Waiting.Add(Ticket("team/app", agents: new() { ["os"] = "linux", ["role"] = "build*" }));
        AgentSlots[] agents = [Agent("mac", tags: new() { ["os"] = "darwin", ["role"] = "build" }), Agent("lin", tags: new() { ["os"] = "linux", ["role"] = "builder" })];
        Assert.Equal("lin", QueuePolicy.Next(queue, agents)!.Value.Agent.Name);
        Assert.Null(QueuePolicy.Next(queue, [agents[0]]));
        Assert.Equal("no connected agent with job slots has the tags os=linux,role=build*", QueuePolicy.WhyWaiting(queue.Waiting[0], queue, [agents[0]]));
    }

    [Fact]
    public void Job_with_an_image_waits_for_an_agent_with_a_container_engine_and_says_so()
    {
        var queue = new QueueState();
        queue.Waiting.Add(Ticket("team/app", image: "localhost/builder:1"));
        Assert.Null(QueuePolicy.Next(queue, [Agent("plain")]));
        Assert.Equal("the step runs in image 'localhost/builder:1': none of the 1 matching agents has a container engine",
            QueuePolicy.WhyWaiting(queue.Waiting[0], queue, [Agent("plain")]));
        Assert.Equal("podman-1", QueuePolicy.Next(queue, [Agent("plain"), Agent("podman-1", engine: "podman")])!.Value.Agent.Name);
    }

    [Fact]
    public void Agent_takes_no_more_jobs_than_its_slots()
    {
        var queue = new QueueState();
        for (var i = 0; i < 3; i++) queue.Waiting.Add(Ticket("team/app"));
        AgentSlots[] agents = [Agent("n1", slots: 2)];
        for (var i = 0; i < 2; i++)
        {
            var next = QueuePolicy.Next(queue, agents)!.Value;
            QueuePolicy.Lease(queue, next.Ticket, next.Agent.Name, Now);
        }
        Assert.Null(QueuePolicy.Next(queue, agents));
        Assert.Equal("all 1 matching agents are busy", QueuePolicy.WhyWaiting(queue.Waiting[0], queue, agents));
    }

    [Fact]
    public void Concurrency_group_runs_at_most_its_limit()
    {
        var queue = new QueueState();
        queue.Waiting.Add(Ticket("team/app", group: "deploy/prod", concurrency: 1));
        queue.Waiting.Add(Ticket("team/web", group: "deploy/prod", concurrency: 1));
        var free = Ticket("team/app");
        queue.Waiting.Add(free);
        AgentSlots[] agents = [Agent("n1", slots: 5)];
        var first = QueuePolicy.Next(queue, agents)!.Value;
        QueuePolicy.Lease(queue, first.Ticket, "n1", Now);
        var second = QueuePolicy.Next(queue, agents)!.Value;
        Assert.Equal(free, second.Ticket);
        QueuePolicy.Lease(queue, second.Ticket, "n1", Now);
        Assert.Null(QueuePolicy.Next(queue, agents));
        Assert.Equal("concurrency group 'deploy/prod' is full (1 running)", QueuePolicy.WhyWaiting(queue.Waiting[0], queue, agents));
    }
}
