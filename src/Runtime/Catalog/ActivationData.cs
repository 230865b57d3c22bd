using Platform.Runtime.Hosting;
using Platform.Runtime.Invocation;
using Platform.Runtime.Messaging;

namespace Platform.Runtime.Catalog;

/// <summary>
/// One activation of a grain (or a registered observer): its instance, its mailbox and its turn.
/// Work runs one item at a time under the activation's synchronization context, so a grain's code
/// never runs on two threads at once; whether a queued request may start while others are
/// suspended at an await is decided by <see cref="CanStart"/>. Split by concern, as Orleans splits it:
/// the message pump (<c>ActivationData.MessagePump.cs</c>), calls run on the caller's thread
/// (<c>ActivationData.InlineCall.cs</c>), and activation and deactivation (<c>ActivationData.Lifecycle.cs</c>).
/// </summary>
internal sealed partial class ActivationData : IThreadPoolWorkItem
{
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
            // Taken: on a connection's reading thread, the standby reads on from here (ReaderHandoff).
            Transport.ReaderHandoff.BeforeInline();
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

    private void Unmark(GrainMethodDescriptor method)
    {
        _running--;
        if (!method.IsReadOnly) _runningMutating--;
        _lastActivity = Environment.TickCount64;
    }

    public override string ToString() => $"activation {GrainId}";
}
