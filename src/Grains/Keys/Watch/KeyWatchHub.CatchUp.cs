using Microsoft.Extensions.Logging;

namespace Platform.Grains.Keys;

/// <summary>Catching up with the keyspace grain: renewals, gaps, and the read index a watch starts from.</summary>
public sealed partial class KeyWatchHub
{
    private void RequestCatchUp()
    {
        if (Interlocked.Exchange(ref _catchUpRequested, 1) == 0) _ = CatchUpOnceAsync();
    }

    private async Task CatchUpOnceAsync()
    {
        try
        {
            await CatchUpAsync();
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            LogCatchUpFailed(_logger, e);
        }
    }

    /// <summary>Renews the subscription every second, catching up with anything missed (also after the grain moved).</summary>
    private async Task RenewLoop(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await CatchUpAsync();
                _ready.TrySetResult();
                delay = TimeSpan.FromSeconds(1);
                if (failures > 0) LogKeyspaceReachable(_logger, failures);
                failures = 0;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // The first failure and every tenth: an outage stays visible without a line per second.
                if (++failures == 1 || failures % 10 == 0)
                    LogKeyspaceUnreachable(_logger, e.Message, failures);
                delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(delay, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Catches up with the grain; answers the grain's durable index at the time it answered.</summary>
    private async Task<ulong> CatchUpAsync()
    {
        Volatile.Write(ref _catchUpRequested, 0);
        var after = LastIndex;
        var answer = await Keyspace.Subscribe(_self!, after);
        Term = answer.Term;
        if (!answer.Cleared && answer.DurableIndex >= after)
        {
            Deliver(answer.Events);
            return answer.DurableIndex;
        }
        // The hub missed events the grain no longer has (or the keyspace went back): start over at its index.
        LogHistoryLost(_logger, after, answer.DurableIndex);
        List<TaskCompletionSource>? seen = null;
        lock (_lock)
        {
            _recent = new EventHistory(_options.HistoryCapacity);
            _lastIndex = answer.DurableIndex;
            TakeSeen(ref seen);
        }
        CloseAll();
        if (seen is not null)
            foreach (var s in seen) s.TrySetResult();
        return answer.DurableIndex;
    }

    /// <summary>
    /// The keyspace's durable index as of some moment after this call: the index a watch without waitIndex starts
    /// after. Calls that arrive while a read is in flight share the next one (that read may have left before they
    /// came, so it cannot answer them); each read is a catch-up, so the events up to its index reach the hub's
    /// history and watches in order, through <see cref="Deliver"/>, as any others.
    /// </summary>
    private Task<ulong> ReadIndexAsync(CancellationToken cancellationToken)
    {
        Task<ulong> read;
        bool start;
        lock (_lock)
        {
            read = (_readWaiting ??= new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            start = !_reading;
            _reading = true;
        }
        if (start) _ = ReadIndexLoop();
        return cancellationToken.CanBeCanceled ? read.WaitAsync(cancellationToken) : read;
    }

    /// <summary>Sends one read for every batch of waiters, one at a time, until none is waiting.</summary>
    private async Task ReadIndexLoop()
    {
        while (true)
        {
            TaskCompletionSource<ulong> batch;
            lock (_lock)
            {
                if (_readWaiting is null)
                {
                    _reading = false;
                    return;
                }
                batch = _readWaiting;
                _readWaiting = null;
            }
            try
            {
                batch.TrySetResult(await CatchUpAsync());
            }
            catch (Exception e)
            {
                batch.TrySetException(e);
            }
        }
    }

}
