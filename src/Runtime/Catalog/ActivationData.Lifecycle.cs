using Platform.Runtime.Messaging;
using Platform.Runtime.Hosting;
namespace Platform.Runtime.Catalog;

internal sealed partial class ActivationData
{
    [ThreadStatic] private static ActivationData? t_constructing;

    private List<Func<CancellationToken, Task>>? _onActivate;
    private List<IDisposable>? _timers;
    private TaskCompletionSource? _deactivated;
    private TaskCompletionSource? _leaveDuringHandOff;
    private StorageUnavailableException? _storageFailure;

    /// <summary>The activation whose grain is being constructed on this thread (so that constructors can reach their context).</summary>
    public static ActivationData? Constructing => t_constructing;

    /// <summary>Runs before the grain's OnActivateAsync (persistent state reads register here).</summary>
    public void AddActivationStep(Func<CancellationToken, Task> step) => (_onActivate ??= []).Add(step);

    /// <summary>Keeps a timer to dispose when the activation goes away.</summary>
    public void AddTimer(IDisposable timer)
    {
        lock (_lock) (_timers ??= []).Add(timer);
    }

    public void RemoveTimer(IDisposable timer)
    {
        lock (_lock) _timers?.Remove(timer);
    }

    /// <summary>Completes when this activation has deactivated.</summary>
    public Task Deactivated
    {
        get
        {
            lock (_lock)
            {
                if (_state == ActivationState.Invalid) return Task.CompletedTask;
                return (_deactivated ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    private async Task ActivateAsync()
    {
        Interlocked.Increment(ref Class!._activationAttempts);
        try
        {
            using var cts = new CancellationTokenSource(Runtime.Options.ActivationTimeout);
            if (Runtime.Cluster is { } cluster && !await HandOffAsync(cluster)) return;
            t_constructing = this;
            try
            {
                Instance = Class!.Factory(Runtime.Services);
            }
            finally
            {
                t_constructing = null;
            }
            if (_onActivate is not null)
                foreach (var step in _onActivate) await step(cts.Token);
            if (Instance is Grain grain) await grain.OnActivateAsync(cts.Token);
        }
        catch (Exception e)
        {
            FailActivation(e);
            return;
        }
        Interlocked.Increment(ref Class!._activationCount);
        Runtime.Catalog.Backoff.OnActivated(GrainId);
        bool schedule;
        lock (_lock)
        {
            _state = ActivationState.Valid;
            _running--;
            _runningMutating--;
            schedule = !_pumping && HasRunnableWork();
            if (schedule) _pumping = true;
        }
        if (schedule) Schedule();
    }

    /// <summary>
    /// Waits for the silo that owned the grain under the previous view to let go of it. False when this activation was
    /// told to leave first: it then goes without having read any state. Two silos whose views disagree can each hold an
    /// activation waiting for the other's release; because a release ends a waiting activation at once, neither waits
    /// out the hand-off's bound.
    /// </summary>
    private async Task<bool> HandOffAsync(SiloCluster cluster)
    {
        var handOff = cluster.HandOffAsync(GrainId);
        if (!handOff.IsCompleted)
        {
            var leave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_deactivationRequested) leave.TrySetResult();
                else _leaveDuringHandOff = leave;
            }
            await Task.WhenAny(handOff, leave.Task);
            lock (_lock) _leaveDuringHandOff = null;
        }
        if (handOff.IsCompleted) await handOff;
        lock (_lock)
        {
            if (!_deactivationRequested) return true;
        }
        Abandon();
        return false;
    }

    /// <summary>Ends an activation that never ran its grain: queued calls go to wherever the grain lives now.</summary>
    private void Abandon()
    {
        var forward = EndTurnAndTakeQueued(out var deactivated);
        Runtime.Catalog.Remove(this);
        foreach (var m in forward) Runtime.Redispatch(m);
        deactivated?.TrySetResult();
    }

    /// <summary>Ends the lifecycle step's turn and the activation with it; returns the calls still queued, to send on.</summary>
    private Message[] EndTurnAndTakeQueued(out TaskCompletionSource? deactivated)
    {
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            Message[] queued = [.. _requests];
            _requests.Clear();
            _mayInterleaveQueued = 0;
            _running--;
            _runningMutating--;
            deactivated = _deactivated;
            return queued;
        }
    }

    private void FailActivation(Exception error)
    {
        Message[] pending;
        TaskCompletionSource? deactivated;
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            pending = [.. _requests];
            _requests.Clear();
            _running = 0;
            _runningMutating = 0;
            deactivated = _deactivated;
        }
        if (Class is not null) Interlocked.Increment(ref Class._activationFailures);
        var wait = Runtime.Catalog.OnActivationFailed(this, error);
        DisposeTimers();
        Exception failure;
        if (error is StorageUnavailableException storage)
        {
            // The storage monitor has said so once; a client is told no more than that storage is unavailable.
            Runtime.LogActivationBackingOff(this, wait, storage);
            failure = new StorageUnavailableException($"activation of grain {GrainId} failed: {storage.Detail}", storage);
        }
        else
        {
            Runtime.LogActivationFailed(this, error);
            failure = new GrainActivationException($"Activation of grain {GrainId} failed: {error.GetType().Name}: {error.Message}", error);
        }
        foreach (var m in pending) m.Reject(failure);
        deactivated?.TrySetResult();
    }

    /// <summary>Asks the activation to deactivate once its running requests finish; queued ones go to a new activation.</summary>
    public void RequestDeactivation(DeactivationReason reason, StorageUnavailableException? storageFailure = null)
    {
        bool schedule;
        Message[]? neverActivated = null;
        TaskCompletionSource? deactivated = null;
        TaskCompletionSource? leave;
        lock (_lock)
        {
            if (_deactivationRequested || _state is ActivationState.Deactivating or ActivationState.Invalid) return;
            if (_state == ActivationState.Creating)
            {
                // Never activated: it does not activate only to leave. It leaves the catalog at once, like any deactivated
                // activation: a caller that created it and has not queued its call yet (a view change landed in between)
                // looks again and must find a new activation, not this one, or it would retry against it forever.
                _state = ActivationState.Invalid;
                neverActivated = [.. _requests];
                _requests.Clear();
                _mayInterleaveQueued = 0;
                deactivated = _deactivated;
                schedule = false;
                leave = null;
            }
            else
            {
                _deactivationRequested = true;
                _deactivationReason = reason;
                _storageFailure = storageFailure;
                schedule = !_pumping && HasRunnableWork();
                if (schedule) _pumping = true;
                leave = _leaveDuringHandOff;
            }
        }
        if (schedule) Schedule();
        leave?.TrySetResult();
        if (neverActivated is not null)
        {
            Runtime.Catalog.Remove(this);
            foreach (var m in neverActivated) Runtime.Redispatch(m);
            deactivated?.TrySetResult();
        }
    }

    private async Task DeactivateAsync(DeactivationReason reason)
    {
        DisposeTimers();
        if (Instance is Grain grain)
        {
            try
            {
                using var cts = new CancellationTokenSource(Runtime.Options.DeactivationTimeout);
                await grain.OnDeactivateAsync(reason, cts.Token);
            }
            catch (Exception e)
            {
                Runtime.LogUnhandled(this, e);
            }
        }
        var forward = EndTurnAndTakeQueued(out var deactivated);
        // Before it leaves the catalog, so that a caller who no longer finds it sees the back-off.
        if (reason == DeactivationReason.StorageUnavailable && _storageFailure is { } storageFailure && Pool is null)
            Runtime.Catalog.Backoff.OnFailed(GrainId, storageFailure);
        Runtime.Catalog.Remove(this);
        if (Class is not null) Interlocked.Decrement(ref Class._activationCount);
        foreach (var m in forward) Runtime.Redispatch(m);
        deactivated?.TrySetResult();
    }

    private void DisposeTimers()
    {
        IDisposable[]? timers;
        lock (_lock)
        {
            timers = _timers?.ToArray();
            _timers = null;
        }
        if (timers is null) return;
        foreach (var t in timers) t.Dispose();
    }

    /// <summary>Makes a registered observer unreachable: queued calls fail, later calls find nothing.</summary>
    public void Invalidate(Exception reason)
    {
        Message[] pending;
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            pending = [.. _requests];
            _requests.Clear();
        }
        foreach (var m in pending) m.Reject(reason);
    }
}
