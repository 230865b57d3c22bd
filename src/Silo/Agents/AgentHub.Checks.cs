using System.Text.Json;
using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>
/// TTL reports made at any silo (<c>PUT /v1/agent/check/pass/:id</c>): a <c>check</c> frame to the one agent that runs
/// the check; checks registered through the API: a <c>checks</c> frame to the node's agent; and stored check changes, published on the monitor (which also wakes Consul blocking queries on health).
/// </summary>
public sealed partial class AgentHub
{
    /// <summary>Queues a <c>check</c> frame on node <paramref name="name"/>'s connection; false when this hub does not hold it.</summary>
    public Task<bool> OnCheckReport(string name, NodeCheck report)
    {
        AgentConnection? connection;
        lock (_lock) _byName.TryGetValue(name, out connection);
        if (connection is not { Accepted: true, Ended: false }) return Task.FromResult(false);
        connection.Send(AgentProtocol.Encode(new CheckFrame(new CheckState(report.Id, report.Name, report.Status, report.Output))));
        return Task.FromResult(true);
    }

    /// <summary>Queues a <c>checks</c> frame (the node's registered checks) on node <paramref name="name"/>'s connection; false when this hub does not hold it.</summary>
    public Task<bool> OnChecksPush(string name, NodeChecksPush checks)
    {
        AgentConnection? connection;
        lock (_lock) _byName.TryGetValue(name, out connection);
        if (connection is not { Accepted: true, Ended: false }) return Task.FromResult(false);
        connection.Send(AgentProtocol.Encode(AgentFrameMapping.ToFrame(checks)));
        return Task.FromResult(true);
    }

    public Task OnCheckChanged(string name, NodeCheck check)
    {
        Monitor.Publish(JsonSerializer.SerializeToUtf8Bytes(new MonitorLine("check", null, null, null, null, null, null, name, check), MonitorLine.Json));
        return Task.CompletedTask;
    }
}
