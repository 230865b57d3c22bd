using Platform.Grains.Deploys;
using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>Deploys (docs/deploys.md, "Frames"): orders from deploy grains out to one agent, its output and results back to the grain.</summary>
public sealed partial class AgentHub
{
    /// <summary>Queues a <c>deploy</c> or <c>deploy-cancel</c> frame on node <paramref name="name"/>'s connection; false when this hub does not hold it.</summary>
    public Task<bool> OnDeployOrder(string name, DeployOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        AgentConnection? connection;
        lock (_lock) _byName.TryGetValue(name, out connection);
        if (connection is not { Accepted: true, Ended: false }) return Task.FromResult(false);
        AgentFrame frame = order.Cancel
            ? new DeployCancelFrame(order.DeployId, name)
            : new DeployFrame(order.DeployId, name, order.ManifestUrl, order.Manifest, (long)order.Timeout.TotalMilliseconds);
        connection.Send(AgentProtocol.Encode(frame));
        return Task.FromResult(true);
    }

    private IDeployGrain Deploy(string id) => _grains.GetGrain<IDeployGrain>(id);

    /// <summary>A chunk of output: to the deploy grain, without waiting (a lost chunk only leaves a gap in the live log).</summary>
    private void OnDeployLog(AgentConnection connection, DeployLogFrame log)
    {
        // An agent speaks for its own node only.
        if (log.Node != connection.Name || log.DeployId.Length == 0) return;
        Forward(Deploy(log.DeployId).AppendLog(log.Node, log.Offset, log.Data));
    }

    /// <summary>A node's result: stored by the deploy grain, then acknowledged so the agent stops resending it.</summary>
    private async Task OnDeployResult(AgentConnection connection, DeployResultFrame result)
    {
        if (result.Node != connection.Name || result.DeployId.Length == 0) return;
        try
        {
            var stored = await Deploy(result.DeployId).Report(new DeployNodeReport(result.Node, result.Status, result.ExitCode, result.DurationMs, result.OutputTail));
            if (stored) connection.Send(AgentProtocol.Encode(new DeployResultAckFrame(result.DeployId, result.Node)));
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            // Not acknowledged: the agent sends it again.
            _logger.LogWarning(e, "agent hub: node {Name}'s result for deploy {Id} could not be stored; the agent resends it", result.Node, result.DeployId);
        }
    }
}
