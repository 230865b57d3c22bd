using Platform.Grains.Keys;
using Platform.Grains.Nodes;

namespace Platform.Grains.Rules;

/// <summary>The engine's subscription to the keyspace: passes every batch of durable changes to the engine, in order.</summary>
internal sealed class RuleKeyFeed(IRuleEngineGrain engine) : IKeyspaceObserver
{
    public Task OnEvents(KeyEventBatch batch) => engine.OnKeyEvents(batch);
}

/// <summary>
/// The engine's subscription to the fleet, as a hub that holds no agents: user events go to the engine; a query is
/// answered at once as delivered to no node, so a query never waits for the engine.
/// </summary>
internal sealed class RuleFleetFeed(IRuleEngineGrain engine, string hubKey) : IFleetObserver
{
    public Task OnEvents(FleetEventBatch batch) => engine.OnFleetEvents(batch);

    public Task OnQuery(FleetQuery query, IQueryCollector collector) => collector.OnDelivered(hubKey, []);

    public Task OnLeaveRequested(string name) => Task.CompletedTask;

    public Task OnCheckChanged(string name, NodeCheck check) => Task.CompletedTask;

    public Task<bool> OnCheckReport(string name, NodeCheck report) => Task.FromResult(false);

    public Task<bool> OnChecksPush(string name, NodeChecksPush checks) => Task.FromResult(false);

    public Task<bool> OnDeployOrder(string name, DeployOrder order) => Task.FromResult(false);
}
