namespace Platform.Grains.Nodes;

/// <summary>
/// A node's durable state. Written only when something changes (join, leave, failure, tags, checks, applied event,
/// the silo holding its connection); heartbeats never touch it.
/// </summary>
public sealed class NodeState
{
    public string Addr { get; set; } = "";
    public int Port { get; set; }
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);
    public string Status { get; set; } = "";
    public int Protocol { get; set; }
    public long Incarnation { get; set; }
    public DateTimeOffset Joined { get; set; }

    /// <summary>When the node was last known to be connected (set when its connection goes or moves).</summary>
    public DateTimeOffset LastSeen { get; set; }

    /// <summary>When the status last changed: the reap timeout counts from it.</summary>
    public DateTimeOffset StatusChanged { get; set; }

    public List<NodeCheck> Checks { get; set; } = [];

    /// <summary>Checks registered through the API, in registration order; the agent runs them besides its configuration's.</summary>
    public List<NodeCheckDefinition> Registered { get; set; } = [];

    /// <summary>One more at each change of <see cref="Registered"/>: an agent ignores a set older than one it has.</summary>
    public long RegisteredVersion { get; set; }

    /// <summary>The ids of the checks the agent's configuration defines (its last hello): the API cannot take them.</summary>
    public List<string> ConfigCheckIds { get; set; } = [];

    /// <summary>The agent's configuration sets <c>enable_script_checks</c> (its last hello).</summary>
    public bool ScriptChecks { get; set; }

    /// <summary>Checks deregistered since the agent last connected: a state it reports for one before it applied the removal is dropped.</summary>
    public List<string> Deregistered { get; set; } = [];

    /// <summary>The last user event the agent reported handled (Lamport time).</summary>
    public ulong LastEventLTime { get; set; }

    /// <summary>The agent process that holds the name (new per process).</summary>
    public string AgentId { get; set; } = "";

    /// <summary>The silo hub holding the connection (its key: silo name and a per-start id).</summary>
    public string Hub { get; set; } = "";

    /// <summary>The connection (one per WebSocket); a late report about an older connection is ignored.</summary>
    public string Session { get; set; } = "";

    /// <summary>The node's last <see cref="NodeMemberEvent.Kept"/> membership changes, oldest first: written with the change itself.</summary>
    public List<NodeMemberEvent> MemberEvents { get; set; } = [];

    public NodeMember ToMember(string name) => new(name, Addr, Port, new Dictionary<string, string>(Tags, StringComparer.Ordinal), Status, Protocol, Incarnation);
}

/// <summary>
/// A membership change of one node as its grain stored it: the Serf event (<c>member-join</c>, <c>member-failed</c>, …,
/// or <c>leaving</c> when its agent asked to leave), the status and tags after it, the silo holding its connection.
/// </summary>
public sealed record NodeMemberEvent(string Event, string Status, Dictionary<string, string> Tags, string Hub, DateTimeOffset At)
{
    /// <summary>Changes kept per node.</summary>
    public const int Kept = 50;
}
