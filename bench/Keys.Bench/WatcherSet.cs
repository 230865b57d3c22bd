using System.Diagnostics;

namespace Platform.Keys.Bench;

/// <summary>
/// N long-poll watchers on one key, each on its own connection, reused from round to round while the server keeps
/// them open. A round sends every watcher its GET ?wait=true; the response headers arriving is the sign the watch is
/// registered (etcd flushes them at once, and the Platform facade is to do the same); the body completes it.
/// </summary>
public sealed class WatcherSet(Target target, int count) : IDisposable
{
    private readonly HttpConnection?[] _connections = new HttpConnection?[count];

    public int Count => count;

    public async Task OpenAsync()
    {
        var opened = await RequestLoad.OpenAsync(target, count);
        opened.CopyTo(_connections, 0);
    }

    /// <summary>Sends every watcher the request; the returned round tracks registration and completion.</summary>
    public WatchRound Start(byte[] watchRequest)
    {
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
