using System.Threading.Channels;
using Platform.Grains.Builds;
using Platform.Runtime.Hosting;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// This silo's end of the builds' change feed (<see cref="IBuildFeedGrain"/>): subscribed while the silo runs once a
/// first follower opens, renewed every 20 s, and handing each change to the followers it concerns. The queue is read
/// once per change for all of this silo's queue followers (changes that come while it is read make one more read).
/// </summary>
public sealed partial class BuildsFeed(GrainRuntime runtime, ILogger<BuildsFeed> logger) : IBuildFeedObserver, IAsyncDisposable
{
    private static readonly TimeSpan s_renewal = TimeSpan.FromSeconds(20);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private BuildFollower[] _followers = [];
    private IBuildFeedObserver? _self;
    private Task? _subscribed;
    private Task? _renewing;
    private int _queueReads;

    private IBuildFeedGrain Grain => runtime.GetGrain<IBuildFeedGrain>("default");

    /// <summary>Opens a follower (dispose it when its reader goes) once the silo is subscribed, so no change after this returns is missed.</summary>
    public async Task<BuildFollower> OpenAsync(BuildFollow follow, CancellationToken cancellationToken)
    {
        var follower = new BuildFollower(this, follow);
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

    internal void Close(BuildFollower follower)
    {
        lock (_lock) _followers = Array.FindAll(_followers, f => f != follower);
    }

    public Task OnBuild(BuildState build)
    {
        foreach (var f in Volatile.Read(ref _followers))
            if (f.Follow.Wants(build)) f.Offer(build);
        return Task.CompletedTask;
    }

    public Task OnQueue()
    {
        if (Array.Exists(Volatile.Read(ref _followers), f => f.Follow.Queue)) ReadQueue();
        return Task.CompletedTask;
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
        _self ??= runtime.CreateObjectReference<IBuildFeedObserver>(this);
        await Grain.Subscribe(_self);
        _renewing ??= Renew(_stopping.Token);
    }

    private async Task Renew(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(s_renewal);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await Grain.Subscribe(_self!).WaitAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRenewFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>0: no read, 1: a read runs, 2: a read runs and another change came meanwhile.</summary>
    private void ReadQueue()
    {
        while (true)
        {
            var now = Volatile.Read(ref _queueReads);
            var next = now == 0 ? 1 : 2;
            if (Interlocked.CompareExchange(ref _queueReads, next, now) != now) continue;
            if (now == 0) _ = ReadQueueLoop();
            return;
        }
    }

    private async Task ReadQueueLoop()
    {
        while (true)
        {
            try
            {
                var view = await runtime.GetGrain<IBuildQueueGrain>("default").View();
                foreach (var f in Volatile.Read(ref _followers))
                    if (f.Follow.Queue) f.Offer(view);
            }
            catch (Exception e)
            {
                LogQueueReadFailed(logger, e);
            }
            if (Interlocked.CompareExchange(ref _queueReads, 0, 1) == 1) return;
            Volatile.Write(ref _queueReads, 1);
            // A busy queue changes many times a second: its followers get at most about five views a second.
            await Task.Delay(200, _stopping.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
            if (_stopping.IsCancellationRequested) return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        BuildFollower[] followers;
        lock (_lock) (followers, _followers) = (_followers, []);
        foreach (var f in followers) f.Complete();
        if (_renewing is { } renewing) await renewing;
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "builds feed: renewing this silo's subscription failed; retrying at the next renewal")]
    private static partial void LogRenewFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "builds feed: reading the queue for its followers failed")]
    private static partial void LogQueueReadFailed(ILogger logger, Exception error);
}

/// <summary>What a follower wants: the builds of a repository and branch (either may be empty: any), one build, or the queue.</summary>
public sealed record BuildFollow(string? Repository, string? Branch, string? BuildId, bool Queue)
{
    public bool Wants(BuildState build)
        => !Queue && (BuildId is not null
            ? build.Id == BuildId
            : (string.IsNullOrEmpty(Repository) || build.Repository == Repository) && (string.IsNullOrEmpty(Branch) || build.Branch == Branch));
}

/// <summary>
/// One follower: a bounded queue of changes (<see cref="BuildState"/> or <see cref="QueueView"/>); one that reads too
/// slowly loses changes and is told (<see cref="TakeDropped"/>), so it reads the current state again.
/// </summary>
public sealed class BuildFollower : IDisposable
{
    private const int QueueLimit = 256;
    private readonly BuildsFeed _feed;
    private readonly Channel<object> _changes = Channel.CreateBounded<object>(new BoundedChannelOptions(QueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private long _dropped;

    internal BuildFollower(BuildsFeed feed, BuildFollow follow)
    {
        _feed = feed;
        Follow = follow;
    }

    public BuildFollow Follow { get; }

    public ChannelReader<object> Changes => _changes.Reader;

    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    internal void Offer(object change)
    {
        if (!_changes.Writer.TryWrite(change)) Interlocked.Increment(ref _dropped);
    }

    internal void Complete() => _changes.Writer.TryComplete();

    public void Dispose()
    {
        _feed.Close(this);
        _changes.Writer.TryComplete();
    }
}
