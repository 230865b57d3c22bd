using Platform.Runtime.Hosting;
using Platform.Runtime.Invocation;
using Platform.Runtime.Messaging;

namespace Platform.Runtime.Catalog;

/// <summary>
/// One activation of a grain (or a registered observer): its instance, its mailbox and its turn.
/// Work runs one item at a time under the activation's synchronization context, so a grain's code
/// never runs on two threads at once; whether a queued request may start while others are
/// suspended at an await is decided by <see cref="CanStart"/>.
/// </summary>
internal sealed partial class ActivationData : IThreadPoolWorkItem
{
    private const int MaxInlineDepth = 4;
    private const int TurnsPerPump = 128;

    [ThreadStatic] private static int t_inlineDepth;

    private readonly Lock _lock = new();
    private readonly ActivationSynchronizationContext _context;
    private readonly Queue<Message> _requests = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _continuations = new();
    private readonly bool _reentrant;

    private ActivationState _state;
    private bool _pumping;
    private int _running;
    private int _runningMutating;
    private int _mayInterleaveQueued;
    private bool _deactivationRequested;
    private DeactivationReason _deactivationReason;
    private long _lastActivity = Environment.TickCount64;

    public ActivationData(GrainId grainId, GrainClassRegistration? grainClass, GrainRuntime runtime, object? observer = null)
    {
        GrainId = grainId;
        Class = grainClass;
        Runtime = runtime;
        _reentrant = grainClass?.Reentrant ?? false;
        _context = new ActivationSynchronizationContext(this);
        if (observer is not null)
        {
            Instance = observer;
            _state = ActivationState.Valid;
        }
    }

    public GrainId GrainId { get; }
    public GrainClassRegistration? Class { get; }
    public GrainRuntime Runtime { get; }

    /// <summary>The grain or observer object; null until activated.</summary>
    public object? Instance { get; private set; }

    /// <summary>Set for members of a stateless-worker pool.</summary>
    public StatelessWorkerPool? Pool { get; init; }

    internal ActivationState State
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>Milliseconds (Environment.TickCount64) of the last request.</summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>True when nothing runs or waits: a stateless-worker pool prefers such members.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock) return _running == 0 && _requests.Count == 0 && _state is ActivationState.Valid or ActivationState.Creating;
        }
    }

    private bool CanStart(GrainMethodDescriptor method)
    {
        if (_running == 0 || _reentrant || method.IsAlwaysInterleave) return true;
        return method.IsReadOnly && _runningMutating == 0;
    }

    private void MarkRunning(GrainMethodDescriptor method)
    {
        _running++;
        if (!method.IsReadOnly) _runningMutating++;
    }

    /// <summary>
    /// Sends a call to this activation; false when it is gone and the caller must look again. Without
    /// <paramref name="mayRunInline"/> the call is always queued and runs on the activation's pump.
    /// </summary>
    public bool TryInvoke<T>(Invokable<T> request, out ValueTask<T> result, bool mayRunInline = true)
    {
        if (mayRunInline && TryEnterInline(request.Method))
        {
            result = InvokeInline(request);
            return true;
        }
        var message = Message<T>.Rent(GrainId, request, Runtime);
        if (!request.Method.IsOneWay) Runtime.Deadlines.Register(message);
        if (!TryEnqueue(message, touch: true))
        {
            Runtime.Deadlines.Unregister(message);
            message.ReturnUnused();
            result = default;
            return false;
        }
        result = request.Method.IsOneWay ? default : message.AsValueTask();
        return true;
    }

    /// <summary>Queues a message; false when this activation is gone.</summary>
    public bool TryEnqueue(Message message, bool touch)
    {
        bool schedule;
        lock (_lock)
        {
            if (_state == ActivationState.Invalid) return false;
            _requests.Enqueue(message);
            if (message.MayInterleave) _mayInterleaveQueued++;
            if (touch) _lastActivity = Environment.TickCount64;
            schedule = !_pumping && HasRunnableWork();
            if (schedule) _pumping = true;
        }
        if (schedule) Schedule();
        return true;
    }

    /// <summary>
    /// When the activation is idle, the caller's thread runs the request itself: no queueing and no
    /// thread hop for methods that complete synchronously. Bounded depth keeps call chains off the stack.
    /// </summary>
    private bool TryEnterInline(GrainMethodDescriptor method)
    {
        if (t_inlineDepth >= MaxInlineDepth || method.IsOneWay) return false;
        lock (_lock)
        {
            if (_state != ActivationState.Valid || _pumping || _deactivationRequested || _requests.Count != 0 || _continuations.Count != 0 || !CanStart(method))
                return false;
            _pumping = true;
            // Activity is stamped when the call ends (Unmark): a running activation is never idle anyway.
            MarkRunning(method);
        }
        return true;
    }

    private ValueTask<T> InvokeInline<T>(Invokable<T> request)
    {
        var statistics = request.Method.Statistics;
        var timed = Statistics.MethodStatistics.SampleNext();
        var start = timed ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        t_inlineDepth++;
        ValueTask<T> pending;
        try
        {
            pending = Runtime.InvokeRequest(request, Instance!, this);
        }
        catch (Exception e)
        {
            pending = ValueTask.FromException<T>(e);
        }
        finally
        {
            t_inlineDepth--;
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        if (pending.IsCompleted)
        {
            if (timed) statistics.Record(System.Diagnostics.Stopwatch.GetTimestamp() - start, !pending.IsCompletedSuccessfully);
            else statistics.Count(!pending.IsCompletedSuccessfully);
            if (pending.IsFaulted && pending.AsTask().Exception?.InnerException is InconsistentStateException)
                RequestDeactivation(DeactivationReason.InconsistentState);
            ExitInline(request.Method, finished: true);
            return pending;
        }
        var message = Message<T>.Rent(GrainId, request, Runtime);
        Runtime.Deadlines.Register(message);
        message.AttachInline(pending, this, timed ? start : System.Diagnostics.Stopwatch.GetTimestamp());
        ExitInline(request.Method, finished: false);
        return message.AsValueTask();
    }

    private void ExitInline(GrainMethodDescriptor method, bool finished)
    {
        bool schedule;
        lock (_lock)
        {
            if (finished) Unmark(method);
            schedule = HasRunnableWork();
            _pumping = schedule;
        }
        if (schedule) Schedule();
    }

    private void Unmark(GrainMethodDescriptor method)
    {
        _running--;
        if (!method.IsReadOnly) _runningMutating--;
        _lastActivity = Environment.TickCount64;
    }

    /// <summary>Called when a request's work (not merely its response) is over.</summary>
    public void OnRequestFinished(Message message)
    {
        bool schedule;
        lock (_lock)
        {
            Unmark(message.Method);
            schedule = !_pumping && HasRunnableWork();
            if (schedule) _pumping = true;
        }
        if (schedule) Schedule();
    }

    /// <summary>Queues a continuation of code that runs inside this activation.</summary>
    public void PostContinuation(SendOrPostCallback callback, object? state)
    {
        bool schedule;
        lock (_lock)
        {
            _continuations.Enqueue((callback, state));
            schedule = !_pumping;
            if (schedule) _pumping = true;
        }
        if (schedule) Schedule();
    }

    private bool HasRunnableWork()
    {
        if (_continuations.Count != 0) return true;
        return _state switch
        {
            ActivationState.Creating => _requests.Count != 0,
            ActivationState.Valid when _deactivationRequested => _running == 0,
            ActivationState.Valid => _requests.Count != 0 && (CanStart(_requests.Peek().Method) || _mayInterleaveQueued != 0),
            _ => false,
        };
    }

    private void Schedule() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    /// <summary>Takes the first queued request allowed to start now; FIFO except for requests that may interleave.</summary>
    private Message? TryDequeueRunnable()
    {
        if (_requests.Count == 0) return null;
        var head = _requests.Peek();
        if (CanStart(head.Method))
        {
            _requests.Dequeue();
            if (head.MayInterleave) _mayInterleaveQueued--;
            MarkRunning(head.Method);
            return head;
        }
        if (_mayInterleaveQueued == 0) return null;
        Message? found = null;
        var count = _requests.Count;
        for (var i = 0; i < count; i++)
        {
            var m = _requests.Dequeue();
            if (found is null && m.MayInterleave && CanStart(m.Method)) found = m;
            else _requests.Enqueue(m);
        }
        if (found is not null)
        {
            _mayInterleaveQueued--;
            MarkRunning(found.Method);
        }
        return found;
    }

    /// <summary>The pump: runs queued continuations, lifecycle steps and requests, one at a time.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        try
        {
            for (var turn = 0; turn < TurnsPerPump; turn++)
            {
                (SendOrPostCallback Callback, object? State) continuation = default;
                Message? request = null;
                var step = LifecycleStep.None;
                lock (_lock)
                {
                    if (_continuations.Count != 0) continuation = _continuations.Dequeue();
                    else if (_state == ActivationState.Creating && _requests.Count != 0)
                    {
                        _state = ActivationState.Activating;
                        _running++;
                        _runningMutating++;
                        step = LifecycleStep.Activate;
                    }
                    else if (_state == ActivationState.Valid && _deactivationRequested)
                    {
                        if (_running != 0)
                        {
                            _pumping = false;
                            return;
                        }
                        _state = ActivationState.Deactivating;
                        _running++;
                        _runningMutating++;
                        step = LifecycleStep.Deactivate;
                    }
                    else if (_state == ActivationState.Valid && (request = TryDequeueRunnable()) is not null) { }
                    else
                    {
                        _pumping = false;
                        return;
                    }
                }

                if (continuation.Callback is not null) RunContinuation(continuation.Callback, continuation.State);
                else if (step == LifecycleStep.Activate) _ = ActivateAsync();
                else if (step == LifecycleStep.Deactivate) _ = DeactivateAsync(_deactivationReason);
                else request!.Execute(Instance!, this);
            }
            // Yield the thread to other activations; this one stays marked as pumping.
            Schedule();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void RunContinuation(SendOrPostCallback callback, object? state)
    {
        try
        {
            callback(state);
        }
        catch (Exception e)
        {
            Runtime.LogUnhandled(this, e);
        }
    }

    private enum LifecycleStep
    {
        None,
        Activate,
        Deactivate,
    }

    public override string ToString() => $"activation {GrainId}";
}
