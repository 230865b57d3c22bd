namespace Platform.Grains.Nodes;

/// <summary>A member as every node sees it (Serf's member): name, address, port, tags, status, protocol and incarnation.</summary>
public sealed record NodeMember(string Name, string Addr, int Port, Dictionary<string, string> Tags, string Status, int Protocol, long Incarnation);

/// <summary>A health check's last known state (Consul's model: passing, warning or critical).</summary>
public sealed record NodeCheck(string Id, string Name, string Status, string Output);

/// <summary>
/// What an agent says when it connects: who it is, the last user event it handled, its configuration's checks, whether
/// it runs script checks registered through the API, and whether it runs any registered check now.
/// </summary>
public sealed record NodeHello(
    string Name,
    string Addr,
    int Port,
    Dictionary<string, string> Tags,
    string AgentId,
    int Protocol,
    ulong LastEventLTime,
    List<NodeCheck> Checks,
    bool ScriptChecks = false,
    bool ApiChecks = false);

/// <summary>
/// A check registered through the API: <paramref name="Definition"/> is the Consul JSON the caller sent, which the node's
/// agent reads again; <paramref name="Script"/> when it runs a command (<c>args</c> or <c>script</c>).
/// </summary>
public sealed record NodeCheckDefinition(string Id, string Name, string Definition, bool Script, string InitialStatus);
