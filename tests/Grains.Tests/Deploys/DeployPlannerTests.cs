using Platform.Grains.Deploys;
using Platform.Grains.Nodes;

namespace Platform.Grains.Tests.Deploys;

public sealed class DeployPlannerTests
{
    private static List<string> Nodes(int n) => [.. Enumerable.Range(1, n).Select(i => $"n{i:D2}")];

    private static int[] Sizes(int nodes, DeployStrategy strategy) => [.. DeployPlanner.Plan(Nodes(nodes), strategy).Select(b => b.Count)];

    [Fact]
    public void A_count_batch_splits_the_nodes_in_order_and_the_last_batch_takes_the_rest()
    {
        var batches = DeployPlanner.Plan(Nodes(5), new DeployStrategy { Batches = [BatchSize.Nodes(2)] });
        Assert.Equal([["n01", "n02"], ["n03", "n04"], ["n05"]], batches);
    }

    [Fact]
    public void A_ramp_takes_each_size_in_turn_and_repeats_the_last_as_ansible_serial()
    {
        Assert.Equal([1, 5, 5, 5, 4], Sizes(20, new DeployStrategy { Batches = [BatchSize.Nodes(1), BatchSize.Nodes(5), BatchSize.Share(25)] }));
    }

    [Fact]
    public void A_percentage_rounds_down_but_is_never_below_one_node()
    {
        Assert.Equal([3, 3, 3, 1], Sizes(10, new DeployStrategy { Batches = [BatchSize.Share(30)] }));
        Assert.Equal([1, 1, 1], Sizes(3, new DeployStrategy { Batches = [BatchSize.Share(10)] }));
    }

    [Fact]
    public void No_batch_size_is_one_batch_of_every_node()
    {
        Assert.Equal([7], Sizes(7, new DeployStrategy()));
    }

    [Fact]
    public void Every_node_is_in_exactly_one_batch()
    {
        var plan = DeployPlanner.Plan(Nodes(23), new DeployStrategy { Batches = [BatchSize.Nodes(2), BatchSize.Share(17)] });
        Assert.Equal(Nodes(23), plan.SelectMany(b => b));
    }

    [Theory]
    [InlineData(0, 0, 20, 0)]
    [InlineData(3, 0, 20, 3)]
    [InlineData(0, 10, 20, 2)]
    [InlineData(0, 10, 9, 0)]
    [InlineData(0, 100, 20, 20)]
    public void The_failure_threshold_is_a_count_or_a_percentage_of_the_nodes_rounded_down(int count, int percent, int total, int allowed)
    {
        var strategy = new DeployStrategy { FailureThreshold = new BatchSize(count, percent) };
        Assert.Equal(allowed, strategy.AllowedFailures(total));
    }

    [Fact]
    public void A_strategy_that_makes_no_sense_is_refused_naming_the_field()
    {
        Assert.Contains("strategy.batch", new DeployStrategy { Batches = [BatchSize.Nodes(0)] }.Validate());
        Assert.Contains("strategy.batch[1]", new DeployStrategy { Batches = [BatchSize.Nodes(1), BatchSize.Share(101)] }.Validate());
        Assert.Contains("strategy.failure_threshold", new DeployStrategy { FailureThreshold = BatchSize.Share(150) }.Validate());
        Assert.Contains("strategy.node_timeout", new DeployStrategy { NodeTimeout = TimeSpan.Zero }.Validate());
        Assert.Null(new DeployStrategy { Batches = [BatchSize.Nodes(1), BatchSize.Share(25)], FailureThreshold = BatchSize.Share(10) }.Validate());
    }

    private static MemberEntry Member(string name, string status = NodeStatus.Alive, string role = "web")
        => new(new NodeMember(name, "127.0.0.1", 1, new Dictionary<string, string> { ["role"] = role }, status, 5, 1), "hub", DateTimeOffset.UnixEpoch);

    [Fact]
    public void Targets_are_the_alive_members_that_match_sorted_by_name()
    {
        List<MemberEntry> members = [Member("b"), Member("a"), Member("c", role: "db"), Member("d", NodeStatus.Failed)];
        Assert.Equal(["a", "b", "c"], DeployTargets.Resolve(new DeployTarget { All = true }, members).Nodes);
        Assert.Equal(["a", "b"], DeployTargets.Resolve(new DeployTarget { Tags = new() { ["role"] = "^web$" } }, members).Nodes);
        Assert.Equal(["c"], DeployTargets.Resolve(new DeployTarget { Nodes = ["c"] }, members).Nodes);
    }

    [Fact]
    public void A_target_that_matches_nothing_or_names_a_missing_or_failed_node_is_an_error_naming_it()
    {
        List<MemberEntry> members = [Member("a"), Member("d", NodeStatus.Failed)];
        Assert.Contains("matches no alive node", DeployTargets.Resolve(new DeployTarget { Tags = new() { ["role"] = "^db$" } }, members).Error);
        Assert.Contains("target.nodes: 'zz' is not a member", DeployTargets.Resolve(new DeployTarget { Nodes = ["zz"] }, members).Error);
        Assert.Contains("'d' is failed", DeployTargets.Resolve(new DeployTarget { Nodes = ["d"] }, members).Error);
        Assert.Contains("target: expected", DeployTargets.Resolve(new DeployTarget(), members).Error);
        Assert.Contains("target.tags.role", DeployTargets.Resolve(new DeployTarget { Tags = new() { ["role"] = "(" } }, members).Error);
    }
}
