namespace Platform.Silo.Endpoints.Feeds;

/// <summary>
/// A silo's subscription to a feed grain, and its followers: subscribed once the first follower opens (the follower
/// waits for it, so no change after its open returns is missed), renewed on a timer while the silo runs.
/// </summary>
public sealed partial class FeedSubscription<TWant>(string feed, Func<Task> subscribe, TimeSpan renewal, ILogger logger) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private FeedFollower<TWant>[] _followers = [];
    private Task? _subscribed;
    private Task? _renewing;

    /// <summary>The followers now (a snapshot: hand a change to each that wants it).</summary>
    public FeedFollower<TWant>[] Followers => Volatile.Read(ref _followers);

    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Opens a follower (dispose it when its reader goes) once the silo is subscribed.</summary>
    public async Task<FeedFollower<TWant>> OpenAsync(TWant want, CancellationToken cancellationToken)
    {
        var follower = new FeedFollower<TWant>(want, Close);
        lock (_lock) _followers = [.. _followers, follower];
        try
        {
            await SubscribedAsync().WaitAsync(cancellationToken);
        }
        catch
        {
            follower.Dispose();
            throw;
        }
        return follower;
    }

    private void Close(FeedFollower<TWant> follower)
    {
        lock (_lock) _followers = Array.FindAll(_followers, f => f != follower);
    }

    private Task SubscribedAsync()
    {
        lock (_lock)
        {
            if (_subscribed is { IsFaulted: false, IsCanceled: false } subscribed) return subscribed;
            return _subscribed = SubscribeFirst();
        }
    }

    private async Task SubscribeFirst()
    {
        await subscribe();
        lock (_lock) _renewing ??= Renew(_stopping.Token);
    }

    private async Task Renew(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(renewal);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await subscribe().WaitAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRenewFailed(logger, feed, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        FeedFollower<TWant>[] followers;
        lock (_lock) (followers, _followers) = (_followers, []);
        foreach (var f in followers) f.Complete();
        if (_renewing is { } renewing) await renewing;
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "{Feed} feed: renewing this silo's subscription failed; retrying at the next renewal")]
    private static partial void LogRenewFailed(ILogger logger, string feed, Exception error);
}
