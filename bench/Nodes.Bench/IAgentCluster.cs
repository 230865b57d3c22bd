namespace Platform.Nodes.Bench;

/// <summary>
/// N real agents on loopback with the <see cref="StampHandler"/>: serf agents (<see cref="SerfCluster"/>) or
/// <c>platform agent</c> processes on a silo (<see cref="PlatformCluster"/>). Node i is named <c>{prefix}-{i:000}</c>.
/// </summary>
public interface IAgentCluster : IAsyncDisposable
{
    string Name { get; }
    IReadOnlyList<string> Nodes { get; }
    StampHandler Stamps { get; }

    /// <summary>Starts the agents and returns once every one is alive in the cluster's view.</summary>
    Task StartAsync(int count);

    /// <summary>Fires a user event (coalescing off) and returns the wall clock, in ns, just before the request left.</summary>
    Task<long> FireEventAsync(string name);

    /// <summary>kill -9 of node <paramref name="index"/>.</summary>
    Task KillAsync(int index);

    /// <summary>Sends SIGSTOP or SIGCONT to node <paramref name="index"/>.</summary>
    void Signal(int index, int signal);

    /// <summary>Starts node <paramref name="index"/> again after a kill (same name, same settings).</summary>
    Task RestartAsync(int index);

    /// <summary>The last lines node <paramref name="node"/>'s agent printed, for a failure message.</summary>
    string Tail(string node);

    /// <summary>Returns once node <paramref name="index"/> is alive again in the cluster's view.</summary>
    Task WaitAliveAsync(int index, TimeSpan timeout);
}
