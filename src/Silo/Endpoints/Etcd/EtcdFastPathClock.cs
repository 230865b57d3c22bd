using System.Collections.Concurrent;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// One coarse clock for every fast-path connection of a listener, as Kestrel's heartbeat is for its own connections:
/// each tick closes the connections whose deadline has passed. A timer per connection fired in bursts, because
/// connections opened together (a fleet's watchers, a silo's restart) tick together: every few seconds, thousands of
/// callbacks at once, each a hop through the thread pool. Here a tick is one pass over a set, a read per connection.
/// </summary>
internal sealed class EtcdFastPathClock : IDisposable
{
    private readonly ConcurrentDictionary<EtcdFastPath, byte> _connections = new();
    private readonly ITimer _timer;

    /// <summary>Checks deadlines every <paramref name="tick"/>: a connection closes up to that long after its deadline.</summary>
    public EtcdFastPathClock(TimeSpan tick, TimeProvider time) =>
        _timer = time.CreateTimer(static c => ((EtcdFastPathClock)c!).OnTick(), this, tick, tick);

    public void Add(EtcdFastPath connection) => _connections.TryAdd(connection, 0);

    public void Remove(EtcdFastPath connection) => _connections.TryRemove(connection, out _);

    private void OnTick()
    {
        var now = Environment.TickCount64;
        foreach (var (connection, _) in _connections) connection.CheckDeadline(now);
    }

    public void Dispose() => _timer.Dispose();
}
