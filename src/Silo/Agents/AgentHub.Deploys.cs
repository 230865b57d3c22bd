using Platform.Grains.Builds;
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
            : new DeployFrame(order.DeployId, name, order.ManifestUrl, order.Manifest, (long)order.Timeout.TotalMilliseconds, order.Stretch);
        connection.Send(AgentProtocol.Encode(frame));
        return Task.FromResult(true);
    }

    private IDeployGrain Deploy(string id) => _grains.GetGrain<IDeployGrain>(id);

    /// <summary>
    /// A chunk of output: stored in the node's log grain for the deploy, then acknowledged up to the highest chunk stored (as
    /// <c>job-log</c>); a chunk not acknowledged is resent by the agent. Awaited, so one connection's chunks are stored in order.
    /// </summary>
    private async Task OnDeployLog(AgentConnection connection, DeployLogFrame log)
    {
        // An agent speaks for its own node only, and only about deploys that include it.
        if (log.Node != connection.Name || log.DeployId.Length == 0 || log.DeployId.Contains('/')) return;
        try
        {
            if (!connection.DeploysIncluding.Contains(log.DeployId))
            {
                if (!await Deploy(log.DeployId).Includes(log.Node))
                {
                    // Dropped, and acknowledged so that the agent stops sending it.
                    LogDeployOutputDropped(_logger, log.Node, log.DeployId);
                    connection.Send(AgentProtocol.Encode(new DeployLogAckFrame(log.DeployId, log.Node, log.Seq)));
                    return;
                }
                connection.DeploysIncluding.Add(log.DeployId);
            }
            var acked = await _grains.GetGrain<IJobLogGrain>(DeployLogKeys.Log(log.DeployId, log.Node)).Append(log.Seq, log.Offset, log.Data);
            connection.Send(AgentProtocol.Encode(new DeployLogAckFrame(log.DeployId, log.Node, acked)));
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            // Not acknowledged: the agent sends it again.
            LogDeployOutputNotStored(_logger, log.Node, log.DeployId, e.Message);
        }
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
            LogDeployResultNotStored(_logger, e, result.Node, result.DeployId);
        }
    }

    [LoggerMessage(EventId = 3207, Level = LogLevel.Debug, Message = "agent hub: node {Name} sent output for deploy {Id}, which does not include it; dropped")]
    private static partial void LogDeployOutputDropped(ILogger logger, string name, string id);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "agent hub: node {Name}'s output for deploy {Id} could not be stored ({Error}); the agent resends it")]
    private static partial void LogDeployOutputNotStored(ILogger logger, string name, string id, string error);

    [LoggerMessage(EventId = 3209, Level = LogLevel.Warning, Message = "agent hub: node {Name}'s result for deploy {Id} could not be stored; the agent resends it")]
    private static partial void LogDeployResultNotStored(ILogger logger, Exception? exception, string name, string id);
}
