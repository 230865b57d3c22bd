using Platform.Runtime;

namespace Platform.Grains.Nodes;

/// <summary>One node (<c>node/&lt;name&gt;</c>): its durable membership state and the rules for joining, leaving and failing.</summary>
public interface INodeGrain : IGrainWithStringKey
{
    /// <summary>An agent connected through hub <paramref name="hub"/> as connection <paramref name="session"/>; refused when another agent holds the name.</summary>
    Task<NodeConnectResult> Connect(NodeHello hello, string hub, string session);

    /// <summary>The connection <paramref name="session"/> ended without a leave: failed at once (a leaving node becomes left).</summary>
    Task Disconnected(string session, string reason);

    /// <summary>The agent on <paramref name="session"/> leaves gracefully: leaving now, left when its connection closes.</summary>
    Task Leave(string session);

    /// <summary>A failed node becomes left (Serf's force-leave).</summary>
    Task<NodeResult> ForceLeave();

    /// <summary>Sets and deletes tags (a member-update); <paramref name="fromAgent"/> when the agent itself reported them.</summary>
    Task<NodeResult> UpdateTags(Dictionary<string, string> set, List<string> delete, bool fromAgent);

    /// <summary>A health check changed state.</summary>
    Task UpdateCheck(string session, NodeCheck check);

    /// <summary>
    /// Registers (or replaces) a check through the API: stored, then sent to the node's agent if it is connected, else in
    /// its next welcome. Refused when the id is one of the agent configuration's checks, or a script check on a node
    /// whose agent does not set <c>enable_script_checks</c>.
    /// </summary>
    Task<NodeResult> RegisterCheck(NodeCheckDefinition check);

    /// <summary>Removes a check registered through the API, and its state; the agent stops it.</summary>
    Task<NodeResult> DeregisterCheck(string id);

    /// <summary>The agent handled every user event up to <paramref name="ltime"/>.</summary>
    Task Applied(string session, ulong ltime);

    /// <summary>Fails the node if hub <paramref name="hub"/> still holds it (that hub's silo went away and the agent did not reconnect).</summary>
    Task Orphaned(string hub, string reason);

    /// <summary>Removes a failed or left node for good (member-reap).</summary>
    Task Reap();

    /// <summary>The node as stored, or null when unknown.</summary>
    [ReadOnly]
    Task<NodeDetail?> Get();

    /// <summary>The node's last membership changes, oldest first, or null when the node is unknown.</summary>
    [ReadOnly]
    Task<List<NodeMemberEvent>?> MemberChanges();
}

/// <summary>What <see cref="INodeGrain.Connect"/> answers: the node as registered, or why it was refused.</summary>
public sealed record NodeConnectResult(string? Error, NodeMember? Self, ulong LastEventLTime, NodeChecksPush? Checks = null);

/// <summary>The checks registered for a node through the API, at <paramref name="Version"/> (one more at each change).</summary>
public sealed record NodeChecksPush(long Version, List<NodeCheckDefinition> Checks);

/// <summary>A node with everything stored about it.</summary>
public sealed record NodeDetail(NodeMember Member, DateTimeOffset Joined, DateTimeOffset LastSeen, DateTimeOffset StatusChanged, List<NodeCheck> Checks, ulong LastEventLTime, string Hub);

/// <summary>How a request on a node went wrong, so the API can answer with the right status.</summary>
public enum NodeErrorKind
{
    None,
    NotFound,
    Conflict,
    BadInput,

    /// <summary>The node does not allow it (a script check its agent does not take through the API).</summary>
    Forbidden,
}

/// <summary>The outcome of a request on a node: the node afterwards, or an error with its kind.</summary>
public sealed record NodeResult(NodeErrorKind ErrorKind, string? Error, NodeDetail? Node)
{
    public static NodeResult Ok(NodeDetail node) => new(NodeErrorKind.None, null, node);

    public static NodeResult Fail(NodeErrorKind kind, string error) => new(kind, error, null);
}
