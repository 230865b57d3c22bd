using Platform.Grains.Nodes;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// Consul's <c>serfHealth</c> check, which every node has: passing while the node is alive (or leaving), critical once
/// it failed, with Consul's outputs. A node that left is gone from the catalog, so it has none.
/// </summary>
internal static class SerfHealth
{
    public const string CheckId = "serfHealth";
    public const string Name = "Serf Health Status";
    public const string AliveOutput = "Agent alive and reachable";
    public const string FailedOutput = "Agent not live or unreachable";

    /// <summary>Whether Consul lists the node in its catalog: every node until it left.</summary>
    public static bool InCatalog(string status) => status != NodeStatus.Left;

    public static (string Status, string Output) Of(string nodeStatus) => nodeStatus == NodeStatus.Failed
        ? ("critical", FailedOutput)
        : ("passing", AliveOutput);
}
