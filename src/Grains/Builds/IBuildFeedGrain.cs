using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>
/// The builds' change feed (<c>buildfeed/default</c>): each build grain tells it every stored change, the queue every
/// change of what it shows, and it passes them on to every subscribed silo (whose followers of <c>/v1/builds</c>,
/// <c>/v1/builds/{id}</c> and <c>/v1/queue</c> it serves). Nothing is stored: a follower reads the current state first.
/// </summary>
public interface IBuildFeedGrain : IGrainWithStringKey
{
    /// <summary>Subscribes (or renews) a silo's feed; a subscription not renewed within a minute lapses.</summary>
    Task Subscribe(IBuildFeedObserver observer);

    /// <summary>Build <paramref name="build"/> was stored as it is now.</summary>
    [OneWay]
    Task BuildChanged(BuildState build);

    /// <summary>What <see cref="IBuildQueueGrain.View"/> shows changed.</summary>
    [OneWay]
    Task QueueChanged();
}

/// <summary>A silo's end of the builds' change feed.</summary>
public interface IBuildFeedObserver : IGrainObserver
{
    [OneWay]
    Task OnBuild(BuildState build);

    [OneWay]
    Task OnQueue();
}
