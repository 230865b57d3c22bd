namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>A node to start: its name and tags (in the order given on the command line).</summary>
public sealed record NodeSpec(string Name, IReadOnlyList<KeyValuePair<string, string>> Tags);

/// <summary>
/// A cluster of nodes running the recording handler: real serf agents (<see cref="SerfFleet"/>) or a silo with real
/// <c>platform agent</c> processes (<see cref="PlatformFleet"/>). Each operation is the one a person would type.
/// </summary>
public interface IFleet : IAsyncDisposable
{
    /// <summary>"serf" or "platform", for messages.</summary>
    string Name { get; }

    /// <summary>Starts a node's agent; every node after the first joins the cluster.</summary>
    Task StartNodeAsync(NodeSpec node);

    /// <summary>The folder holding the node's handler script and its records.</summary>
    string NodeDir(string node);

    /// <summary><c>serf tags -set k=v -delete k</c> on the node.</summary>
    Task SetTagsAsync(string node, IReadOnlyList<KeyValuePair<string, string>> set, IReadOnlyList<string> delete);

    /// <summary>A graceful leave of the node; returns once its agent has exited.</summary>
    Task LeaveAsync(string node);

    /// <summary>kill -9 of the node's agent.</summary>
    Task KillAsync(string node);

    /// <summary><c>serf event NAME PAYLOAD</c>, sent through <paramref name="via"/>.</summary>
    Task FireEventAsync(string via, string name, string payload);

    /// <summary><c>serf query NAME</c> through <paramref name="via"/>: the command's standard output.</summary>
    Task<string> QueryAsync(string via, string name);

    /// <summary>Every process's output, for a failure message.</summary>
    string Diagnostics();
}
