using Platform.Runtime.Hosting;
using System.Collections.Concurrent;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Catalog;

/// <summary>The activations of this silo by grain id: finds or creates the one a call goes to.</summary>
internal sealed class Catalog(GrainRuntime runtime)
{
    /// <summary>Grain type of object references made by CreateObjectReference.</summary>
    public const string ObserverType = "observer";

    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly ConcurrentDictionary<GrainId, StatelessWorkerPool> _pools = new();
    private volatile bool _closed;

    public int Count => _activations.Count;

    /// <summary>Grains whose activation failed for want of storage, and when each may be tried again.</summary>
    public ActivationBackoff Backoff { get; } = new(runtime.Options, runtime.Time, runtime.StorageMonitor);

    /// <summary>The activation a call to <paramref name="grainId"/> should go to, created if needed.</summary>
    public ActivationData GetOrCreate(GrainId grainId)
    {
        if (_activations.TryGetValue(grainId, out var existing)) return existing;
        return Create(grainId);
    }

    private ActivationData Create(GrainId grainId)
    {
        if (!GrainTypeRegistry.TryGetClass(grainId.Type, out var grainClass))
        {
            if (grainId.Type == ObserverType)
                throw new ObserverNotFoundException($"Observer {grainId} is gone: its reference was deleted or its subscriber went away.");
            throw new RuntimeRejectedException($"Unknown grain type '{grainId.Type}' in grain id {grainId}: no grain class is registered under that name.");
        }
        if (_closed) throw new RuntimeRejectedException($"Silo is shutting down: cannot activate grain {grainId}.");
        if (Backoff.Refusal(grainId) is { } refusal) throw refusal;
        if (grainClass.StatelessWorkerMax > 0)
            return _pools.GetOrAdd(grainId, static (id, s) => new StatelessWorkerPool(id, s.grainClass, s.runtime), (grainClass, runtime)).Pick();
        return _activations.GetOrAdd(grainId, static (id, s) => new ActivationData(id, s.grainClass, s.runtime), (grainClass, runtime));
    }

    /// <summary>Registers an object reference (observer) under a fresh id.</summary>
    public ActivationData AddObserver(object observer, string key)
    {
        var id = new GrainId(ObserverType, key);
        var activation = new ActivationData(id, null, runtime, observer);
        _activations[id] = activation;
        return activation;
    }

    public bool TryGet(GrainId grainId, out ActivationData activation) => _activations.TryGetValue(grainId, out activation!);

    /// <summary>
    /// An activation failed: when for want of storage, the grain backs off before the next try. Recorded before the
    /// activation leaves the catalog, so that a caller who no longer finds it sees the back-off.
    /// </summary>
    /// <returns>The back-off before the next try; zero when the failure was not for want of storage.</returns>
    public TimeSpan OnActivationFailed(ActivationData activation, Exception error)
    {
        var wait = error is StorageUnavailableException storage && activation.Pool is null ? Backoff.OnFailed(activation.GrainId, storage) : TimeSpan.Zero;
        Remove(activation);
        return wait;
    }

    public void Remove(ActivationData activation)
    {
        if (activation.Pool is { } pool) pool.Remove(activation);
        else _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation));
    }

    /// <summary>Every activation, pooled workers included.</summary>
    public List<ActivationData> Snapshot()
    {
        var all = new List<ActivationData>(_activations.Count);
        foreach (var a in _activations.Values) all.Add(a);
        foreach (var p in _pools.Values) all.AddRange(p.Snapshot());
        return all;
    }

    /// <summary>From now on no new activation is created.</summary>
    public void Close() => _closed = true;
}
