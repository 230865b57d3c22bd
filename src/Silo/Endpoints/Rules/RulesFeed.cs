using Platform.Grains.Rules;
using Platform.Runtime.Hosting;
using Platform.Silo.Endpoints.Feeds;

namespace Platform.Silo.Endpoints.Rules;

/// <summary>
/// This silo's end of the rule engine's feed (<see cref="IRuleEngineGrain.Follow"/>): subscribed once a first follower
/// opens, renewed every 20 s (the engine's subscriptions last a minute), handing each run and rule set to every follower.
/// </summary>
public sealed class RulesFeed : IRuleRunObserver, IAsyncDisposable
{
    private readonly FeedSubscription<bool> _feed;
    private IRuleRunObserver? _self;

    public RulesFeed(GrainRuntime runtime, ILogger<RulesFeed> logger)
        => _feed = new FeedSubscription<bool>("rules", () => runtime.GetGrain<IRuleEngineGrain>("default").Follow(_self ??= runtime.CreateObjectReference<IRuleRunObserver>(this)),
            TimeSpan.FromSeconds(20), logger);

    /// <summary>Opens a follower (dispose it when its reader goes) once the silo is subscribed.</summary>
    public Task<FeedFollower<bool>> OpenAsync(CancellationToken cancellationToken) => _feed.OpenAsync(true, cancellationToken);

    public Task RunChanged(RuleRun run) => Offer(run);

    public Task RulesChanged(RuleSet rules) => Offer(rules);

    private Task Offer(object change)
    {
        foreach (var f in _feed.Followers) f.Offer(change);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => _feed.DisposeAsync();
}
