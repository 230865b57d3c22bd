using System.Diagnostics;

namespace Platform.Keys.Bench;

/// <summary>How the driver's watchers speak HTTP: its own raw-socket client, or .NET's HttpClient.</summary>
public enum DriverKind { Raw, HttpClient }

/// <summary>
/// N long-poll watchers on one key, each on its own connection, reused from round to round while the server keeps
/// them open. A round sends every watcher its GET ?wait=true; the response headers arriving is the sign the watch is
/// registered (etcd flushes them at once, and so do Platform and the floor); the body completes it.
/// </summary>
public interface IWatcherSet : IDisposable
{
    int Count { get; }

    Task OpenAsync();

    /// <summary>Sends every watcher <c>GET pathAndQuery</c>; the returned round tracks registration and completion.</summary>
    WatchRound Start(string pathAndQuery);

    /// <summary>Watchers over the driver's raw-socket connections or over one HttpClient.</summary>
    static IWatcherSet Create(DriverKind kind, Target target, int count) =>
        kind == DriverKind.Raw ? new WatcherSet(target, count) : new HttpClientWatcherSet(target, count);
}

/// <summary>Watchers over the driver's raw-socket HTTP/1.1 connections (<see cref="HttpConnection"/>).</summary>
public sealed class WatcherSet(Target target, int count) : IWatcherSet
{
    private readonly HttpConnection?[] _connections = new HttpConnection?[count];

    public int Count => count;

    public async Task OpenAsync()
    {
        var opened = await RequestLoad.OpenAsync(target, count);
        opened.CopyTo(_connections, 0);
    }

    public WatchRound Start(string pathAndQuery)
    {
        var watchRequest = Requests.Get(target.Host, pathAndQuery);
        var round = new WatchRound(count);
        for (var i = 0; i < count; i++) _ = WatchAsync(i, watchRequest, round);
        return round;
    }

    private async Task WatchAsync(int i, byte[] request, WatchRound round)
    {
        var registered = false;
        try
        {
            var conn = _connections[i] ??= await target.ConnectAsync();
            await conn.SendAsync(request);
            var head = await conn.ReadHeadAsync();
            round.Heads[i] = head;
            registered = true;
            round.OneRegistered();
            var body = await conn.ReadBodyAsync(head);
            round.DoneTicks[i] = Stopwatch.GetTimestamp();
            round.Bodies[i] = body.ToArray(); // checked after the round, off the timed path
            if (head.Close)
            {
                conn.Dispose();
                _connections[i] = null;
                round.CountClosedByServer();
            }
        }
        catch (Exception e)
        {
            round.Failures[i] = e;
            _connections[i]?.Dispose();
            _connections[i] = null;
            if (!registered) round.OneRegistered();
        }
        finally
        {
            round.OneDone();
        }
    }

    public void Dispose()
    {
        foreach (var c in _connections) c?.Dispose();
    }
}

/// <summary>The state of one round of a <see cref="WatcherSet"/>: per watcher, its response head, completion time and body.</summary>
public sealed class WatchRound(int count)
{
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _registeredCount, _doneCount, _closedByServer;

    public ResponseHead[] Heads { get; } = new ResponseHead[count];
    public long[] DoneTicks { get; } = new long[count];
    public byte[]?[] Bodies { get; } = new byte[count][];
    public Exception?[] Failures { get; } = new Exception?[count];

    public int Registered => Volatile.Read(ref _registeredCount);
    public int Done => Volatile.Read(ref _doneCount);

    /// <summary>Watch responses that ended with Connection: close (the next round reconnects them).</summary>
    public int ClosedByServer => Volatile.Read(ref _closedByServer);

    internal void OneRegistered()
    {
        if (Interlocked.Increment(ref _registeredCount) == count) _registered.TrySetResult();
    }

    internal void OneDone()
    {
        if (Interlocked.Increment(ref _doneCount) == count) _done.TrySetResult();
    }

    internal void CountClosedByServer() => Interlocked.Increment(ref _closedByServer);

    public async Task WaitRegisteredAsync(string where, TimeSpan timeout)
    {
        try { await _registered.Task.WaitAsync(timeout); }
        catch (TimeoutException) { throw new BenchFailure($"{where}: only {Registered:N0} of {count:N0} watchers got response headers within {timeout.TotalSeconds:0} s"); }
    }

    public async Task WaitDoneAsync(string where, TimeSpan timeout)
    {
        try { await _done.Task.WaitAsync(timeout); }
        catch (TimeoutException) { throw new BenchFailure($"{where}: only {Done:N0} of {count:N0} watchers got their event within {timeout.TotalSeconds:0} s of the PUT"); }
    }
}
