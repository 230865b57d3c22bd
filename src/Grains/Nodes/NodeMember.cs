namespace Platform.Grains.Nodes;

/// <summary>A member as every node sees it (Serf's member): name, address, port, tags, status, protocol and incarnation.</summary>
public sealed record NodeMember(string Name, string Addr, int Port, Dictionary<string, string> Tags, string Status, int Protocol, long Incarnation);

/// <summary>A health check's last known state (Consul's model: passing, warning or critical).</summary>
public sealed record NodeCheck(string Id, string Name, string Status, string Output);

/// <summary>What an agent says when it connects: who it is, and the last user event it handled.</summary>
public sealed record NodeHello(
    string Name,
    string Addr,
    int Port,
    Dictionary<string, string> Tags,
    string AgentId,
    int Protocol,
    ulong LastEventLTime,
    List<NodeCheck> Checks);
