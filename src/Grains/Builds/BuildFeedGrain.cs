using Platform.Runtime;
using Platform.Runtime.Observers;

namespace Platform.Grains.Builds;

/// <summary>Passes build and queue changes on to the subscribed silos, without waiting for any of them.</summary>
[GrainType("buildfeed")]
internal sealed class BuildFeedGrain : Grain, IBuildFeedGrain
{
    public const string DefaultKey = "default";

    private readonly ObserverManager<IBuildFeedObserver> _silos = new(TimeSpan.FromMinutes(1));

    public Task Subscribe(IBuildFeedObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _silos.Subscribe(observer);
        return Task.CompletedTask;
    }

    public Task BuildChanged(BuildState build)
    {
        _silos.Notify(o => o.OnBuild(build));
        return Task.CompletedTask;
    }

    public Task QueueChanged()
    {
        _silos.Notify(o => o.OnQueue());
        return Task.CompletedTask;
    }
}
