using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Runtime.Catalog;
using Platform.Runtime.Filters;
using Platform.Runtime.Invocation;
using Platform.Runtime.Messaging;
using Platform.Runtime.Timers;

namespace Platform.Runtime.Hosting;

/// <summary>
/// The grain runtime of one silo: makes references, routes calls to activations, collects idle
/// activations and deactivates everything on a graceful stop.
/// </summary>
public sealed partial class GrainRuntime : IGrainFactory, IGrainCallInvoker, IAsyncDisposable
{
    private readonly ILogger<GrainRuntime> _logger;
    private readonly IIncomingGrainCallFilter[] _filters;
    private Timer? _collector;
    private int _stopped;

    public GrainRuntime(IServiceProvider services, IOptions<SiloOptions> options, ILogger<GrainRuntime> logger, IEnumerable<IIncomingGrainCallFilter> filters)
    {
        Services = services;
        Options = options.Value;
        _logger = logger;
        _filters = [.. filters];
        Options.Validate();
        Time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        StorageMonitor = services.GetService<Storage.StorageMonitor>();
        Catalog = new Catalog.Catalog(this);
        Deadlines = new DeadlineWheel(Options.ResponseTimeout);
    }

    public IServiceProvider Services { get; }
    public SiloOptions Options { get; }
    internal Catalog.Catalog Catalog { get; }
    internal DeadlineWheel Deadlines { get; }

    /// <summary>The clock of activation back-offs.</summary>
    internal TimeProvider Time { get; }

    /// <summary>Whether storage answers; null when the container has none.</summary>
    public Storage.StorageMonitor? StorageMonitor { get; }

    /// <summary>When the silo started serving.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Live activations on this silo (observers and stateless workers included).</summary>
    public int ActivationCount => Catalog.Count;

    /// <summary>True once a graceful stop began.</summary>
    public bool IsStopping => Volatile.Read(ref _stopped) != 0;

    /// <summary>Starts the idle-activation collector.</summary>
    public void Start()
    {
        StartedAt = DateTimeOffset.UtcNow;
        var quantum = Options.CollectionQuantum;
        if (quantum > Options.CollectionAge / 4) quantum = Options.CollectionAge / 4;
        if (quantum < TimeSpan.FromMilliseconds(10)) quantum = TimeSpan.FromMilliseconds(10);
        _collector = new Timer(static s => ((GrainRuntime)s!).CollectIdle(), this, quantum, quantum);
    }

    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        var registration = GrainTypeRegistry.GetInterface<TGrain>();
        var implementation = registration.Implementation
            ?? throw new RuntimeRejectedException($"No grain class implements {typeof(TGrain).FullName}: register the assembly that defines it with AddGrains().");
        return (TGrain)registration.ProxyFactory(this, new GrainId(implementation.GrainType, key));
    }

    /// <summary>A reference to a grain by id, typed as one of its interfaces.</summary>
    public TGrain GetGrain<TGrain>(GrainId grainId) where TGrain : class
        => (TGrain)GrainTypeRegistry.GetInterface<TGrain>().ProxyFactory(this, grainId);

    public TObserver CreateObjectReference<TObserver>(TObserver observer) where TObserver : class, IGrainObserver
    {
        ArgumentNullException.ThrowIfNull(observer);
        if (observer is GrainReference) return observer;
        var activation = Catalog.AddObserver(observer, Cluster is { } c ? Placement.RendezvousPlacement.ObserverKey(c.Self) : Guid.NewGuid().ToString("N"));
        return (TObserver)GrainTypeRegistry.GetInterface<TObserver>().ProxyFactory(this, activation.GrainId);
    }

    public void DeleteObjectReference<TObserver>(TObserver reference) where TObserver : class, IGrainObserver
    {
        if (reference is not GrainReference r)
            throw new ArgumentException($"{reference} is not an object reference made by CreateObjectReference.", nameof(reference));
        if (Catalog.TryGet(r.GrainId, out var activation))
        {
            Catalog.Remove(activation);
            activation.Invalidate(new ObserverNotFoundException($"Observer {r.GrainId} was deleted."));
        }
    }

    /// <summary>The cluster this silo belongs to; null for a single silo.</summary>
    public SiloCluster? Cluster { get; internal set; }

    /// <summary>Calls that already travelled this many silos run where they are rather than being forwarded again.</summary>
    private const int MaxForwardHops = 2;

    /// <summary>A stopping silo cannot host a call, so it forwards past <see cref="MaxForwardHops"/>, up to this bound.</summary>
    private const int MaxForwardHopsWhileStopping = 8;

    public ValueTask<TResult> InvokeAsync<TResult>(GrainId target, Invokable<TResult> request) => InvokeAsync(target, request, 0, mayRunInline: true);

    /// <summary>
    /// Routes a call: forwards it to the owning silo or hands it to the local activation, which runs it on
    /// the caller's thread only when <paramref name="mayRunInline"/> and the activation is idle.
    /// </summary>
    internal ValueTask<TResult> InvokeAsync<TResult>(GrainId target, Invokable<TResult> request, int hops, bool mayRunInline)
    {
        // Looping means the activation found was gone before the call was queued (deactivated, or told to leave by a
        // view change); placement is decided again, since that view may have given the grain to another silo.
        while (true)
        {
            if (Cluster is { } cluster && (hops < MaxForwardHops || IsStopping && hops < MaxForwardHopsWhileStopping))
            {
                var placement = cluster.Placement;
                // A local activation still leaving after a view change takes the call and forwards it once it is gone.
                if (placement.OwnerOf(target) != cluster.Self && !HasLocalActivation(target))
                {
                    // Routed and queued inside an epoch: a silo confirming that another one leaves waits for it (RouteEpochs).
                    var epoch = placement.Routes.Enter();
                    try
                    {
                        var owner = placement.OwnerOf(target);
                        if (owner != cluster.Self && !HasLocalActivation(target))
                            return cluster.Messages.SendRequest(owner, target, request, hops);
                    }
                    finally
                    {
                        placement.Routes.Exit(epoch);
                    }
                }
            }
            if (Catalog.GetOrCreate(target).TryInvoke(request, out var result, mayRunInline)) return result;
        }
    }

    private bool HasLocalActivation(GrainId target) => Catalog.TryGet(target, out var a) && a.State != ActivationState.Invalid;

    /// <summary>Deactivates this silo's activation of <paramref name="grain"/>, if any, and waits for it (a new owner takes over).</summary>
    internal async Task ReleaseLocalActivationAsync(GrainId grain)
    {
        if (!Catalog.TryGet(grain, out var activation)) return;
        activation.RequestDeactivation(DeactivationReason.PlacementChanged);
        await activation.Deactivated.WaitAsync(Options.DeactivationTimeout).ConfigureAwait(false);
    }

    /// <summary>Runs a request on its target, through the call filters when any are registered.</summary>
    internal ValueTask<T> InvokeRequest<T>(Invokable<T> request, object target, ActivationData activation)
    {
        if (_filters.Length == 0) return request.Invoke(target);
        return new IncomingGrainCallContext<T>(_filters, request, target, activation.GrainId).Run();
    }

    /// <summary>Sends a message that reached a deactivated activation to the grain's new activation.</summary>
    internal void Redispatch(Message message)
    {
        try
        {
            while (true)
            {
                if (Cluster is { } cluster && cluster.Placement.OwnerOf(message.Target) != cluster.Self && !HasLocalActivation(message.Target))
                {
                    message.Forward(this);
                    return;
                }
                if (Catalog.GetOrCreate(message.Target).TryEnqueue(message, touch: true)) return;
            }
        }
        catch (Exception e)
        {
            message.Reject(e);
        }
    }

    private void CollectIdle()
    {
        var cutoff = Environment.TickCount64 - (long)Options.CollectionAge.TotalMilliseconds;
        foreach (var activation in Catalog.Snapshot())
        {
            if (activation.Class is null || activation.LastActivity > cutoff || !activation.IsIdle) continue;
            activation.RequestDeactivation(DeactivationReason.IdleCollection);
        }
    }

    /// <summary>Deactivates every activation and waits for them (the graceful half of a stop); new activations are refused from now on.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _collector?.Dispose();
        Catalog.Close();
        var all = Catalog.Snapshot().Where(a => a.Class is not null).ToList();
        LogStopping(all.Count);
        foreach (var a in all) a.RequestDeactivation(DeactivationReason.ShuttingDown);
        var done = Task.WhenAll(all.Select(a => a.Deactivated));
        var timeout = Task.Delay(Options.ShutdownTimeout, cancellationToken);
        if (await Task.WhenAny(done, timeout) != done)
            LogShutdownTimedOut(all.Count(a => !a.Deactivated.IsCompleted));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        Deadlines.Dispose();
    }

    internal void LogUnhandled(ActivationData activation, Exception e) => LogUnhandledError(activation.GrainId.ToString(), e);
    internal void LogActivationFailed(ActivationData activation, Exception e) => LogActivationError(activation.GrainId.ToString(), e);

    internal void LogActivationBackingOff(ActivationData activation, TimeSpan wait, StorageUnavailableException e) =>
        LogActivationBackoff(activation.GrainId.ToString(), (long)wait.TotalMilliseconds, e);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Unhandled exception in {GrainId}")]
    private partial void LogUnhandledError(string grainId, Exception e);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Activation of {GrainId} failed")]
    private partial void LogActivationError(string grainId, Exception e);

    // Debug: while storage is out, the storage monitor's lines say it; these would be one per try and grain.
    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Activation of {GrainId} failed for want of storage; calls that would activate it fail for the next {WaitMs} ms")]
    private partial void LogActivationBackoff(string grainId, long waitMs, Exception e);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Stopping: deactivating {Count} activations")]
    private partial void LogStopping(int count);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Stop timed out with {Count} activations still deactivating")]
    private partial void LogShutdownTimedOut(int count);
}
