namespace Platform.Grains.Nodes;

/// <summary>Deploy orders: from a deploy grain to the one hub holding the node's connection, as TTL reports go.</summary>
internal sealed partial class FleetGrain
{
    public async Task<bool> SendDeployOrder(string hub, string name, DeployOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return await HolderAsync(hub) is { } holder && await holder.OnDeployOrder(name, order);
    }
}
