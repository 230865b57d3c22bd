using Platform.Grains.Builds;
using Platform.Runtime.Hosting;
using Platform.Silo.Endpoints.Feeds;

namespace Platform.Silo.Endpoints.Builds;

/// <summary>
/// This silo's end of the builds' change feed (<see cref="IBuildFeedGrain"/>): subscribed while the silo runs once a
/// first follower opens, renewed every 20 s, and handing each change to the followers it concerns. The queue is read
/// once per change for all of this silo's queue followers (changes that come while it is read make one more read).
/// </summary>
public sealed partial class BuildsFeed : IBuildFeedObserver, IAsyncDisposable
{
    private readonly GrainRuntime _runtime;
    private readonly ILogger<BuildsFeed> _logger;
    private readonly FeedSubscription<BuildFollow> _feed;
    private IBuildFeedObserver? _self;
    private int _queueReads;

    public BuildsFeed(GrainRuntime runtime, ILogger<BuildsFeed> logger)
    {
        _runtime = runtime;
        _logger = logger;
        _feed = new FeedSubscription<BuildFollow>("builds", () => runtime.GetGrain<IBuildFeedGrain>("default").Subscribe(_self ??= runtime.CreateObjectReference<IBuildFeedObserver>(this)),
            TimeSpan.FromSeconds(20), logger);
    }

    /// <summary>Opens a follower (dispose it when its reader goes) once the silo is subscribed, so no change after this returns is missed.</summary>
    public Task<FeedFollower<BuildFollow>> OpenAsync(BuildFollow follow, CancellationToken cancellationToken) => _feed.OpenAsync(follow, cancellationToken);

    public Task OnBuild(BuildState build)
    {
        foreach (var f in _feed.Followers)
            if (f.Want.Wants(build)) f.Offer(build);
        return Task.CompletedTask;
    }

    public Task OnQueue()
    {
        if (Array.Exists(_feed.Followers, f => f.Want.Queue)) ReadQueue();
        return Task.CompletedTask;
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
        var stopping = _feed.Stopping;
        while (true)
        {
            try
            {
                var view = await _runtime.GetGrain<IBuildQueueGrain>("default").View();
                foreach (var f in _feed.Followers)
                    if (f.Want.Queue) f.Offer(view);
            }
            catch (Exception e)
            {
                LogQueueReadFailed(_logger, e);
            }
            if (Interlocked.CompareExchange(ref _queueReads, 0, 1) == 1) return;
            Volatile.Write(ref _queueReads, 1);
            // A busy queue changes many times a second: its followers get at most about five views a second.
            await Task.Delay(200, stopping).ContinueWith(static _ => { }, TaskScheduler.Default);
            if (stopping.IsCancellationRequested) return;
        }
    }

    public ValueTask DisposeAsync() => _feed.DisposeAsync();

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
