using Platform.Protocol;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// How a TTL report made at any silo reaches the agent that runs the check: a <c>check</c> frame sent to the node's
/// agent by the silo holding its connection; the agent applies it to its check set and reports the change back as usual.
/// </summary>
public interface IAgentCheckUpdates
{
    /// <summary>Sends <paramref name="update"/> (id, status, note as output) to node <paramref name="node"/>'s agent; false when no silo holds its connection.</summary>
    Task<bool> SendAsync(string node, CheckState update);
}
