using Platform.Runtime.Hosting;
using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Platform.Runtime.Catalog;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Messaging;

/// <summary>
/// A request queued to an activation and the caller's pending response. The response completes
/// once, with the grain's result or with a timeout, whichever comes first; the activation is told
/// separately when the grain's work ends, so a timed-out call still holds its turn until then.
/// </summary>
internal abstract class Message : PendingResponse
{
    protected Message(GrainId target, GrainMethodDescriptor method)
    {
        Target = target;
        Method = method;
    }

    public GrainId Target { get; protected set; }
    public GrainMethodDescriptor Method { get; protected set; }

    /// <summary>The activation running this request, set when it starts.</summary>
    public ActivationData? Activation;

    /// <summary>Whether this request may run beside others on a non-reentrant activation.</summary>
    public bool MayInterleave => (Method.Flags & (GrainMethodFlags.AlwaysInterleave | GrainMethodFlags.ReadOnly)) != 0;

    /// <summary>Runs the request on <paramref name="target"/>; called by the activation inside its turn.</summary>
    public abstract void Execute(object target, ActivationData activation);

    /// <summary>Fails the caller without running the request (activation failed, silo stopping).</summary>
    public abstract void Reject(Exception error);

    /// <summary>Sends the request to the grain's current owner and relays its response to this message's caller.</summary>
    public abstract void Forward(GrainRuntime runtime);

}

/// <summary>
/// A typed request. Instances are pooled: one is reused once both its caller has read the response
/// (<see cref="GetResult"/>) and the grain's work has ended (finished, rejected or forwarded); a timeout
/// responds only while the message is still in the use the deadline wheel saw (<see cref="PendingResponse.Epoch"/>).
/// </summary>
internal sealed class Message<T> : Message, IValueTaskSource<T>
{
    private Invokable<T> _request;
    private GrainRuntime _runtime;
    private ManualResetValueTaskSourceCore<T> _response;
    private readonly Action _onPendingCompleted;
    private ValueTask<T> _pending;
    private long _startTimestamp;

    // The caller's span, made current around the grain's code when it runs from the queue (see GrainCallTracing).
    private Activity? _activity;

    // (Epoch << 1) | 1 once responded: responding is one compare-and-swap against the use it belongs to.
    private int _responseState;

    // Owners still holding this message: its caller (until GetResult) and its execution (until it ends).
    private int _owners;

    public Message(GrainId target, Invokable<T> request, GrainRuntime runtime) : base(target, request.Method)
    {
        _request = request;
        _runtime = runtime;
        _onPendingCompleted = OnPendingCompleted;
        _owners = 2;
    }

    /// <summary>A message from the pool (or a new one) for a call with a caller waiting on <see cref="AsValueTask"/>, or none when one-way.</summary>
    public static Message<T> Rent(GrainId target, Invokable<T> request, GrainRuntime runtime)
    {
        var message = CallPool<Message<T>>.TryTake();
        if (message is null) message = new Message<T>(target, request, runtime);
        else message.Reuse(target, request, runtime);
        if (request.Method.IsOneWay) message._owners = 1;
        if (GrainCallTracing.Source.HasListeners()) message._activity = Activity.Current;
        return message;
    }

    private void Reuse(GrainId target, Invokable<T> request, GrainRuntime runtime)
    {
        Target = target;
        Method = request.Method;
        _request = request;
        _runtime = runtime;
        _owners = 2;
    }

    /// <summary>Gives back a message that was never queued nor handed to its caller.</summary>
    public void ReturnUnused()
    {
        _owners = 0;
        Recycle();
    }

    public ValueTask<T> AsValueTask() => new(this, _response.Version);

    public override void Execute(object target, ActivationData activation)
    {
        Activation = activation;
        _startTimestamp = Stopwatch.GetTimestamp();
        ValueTask<T> pending;
        var activity = _activity;
        var previous = activity is null ? null : Activity.Current;
        if (activity is not null) Activity.Current = activity;
        try
        {
            pending = _runtime.InvokeRequest(_request, target, activation);
        }
        catch (Exception e)
        {
            pending = ValueTask.FromException<T>(e);
        }
        finally
        {
            if (activity is not null) Activity.Current = previous;
        }
        if (pending.IsCompleted)
        {
            Finish(pending);
            return;
        }
        _pending = pending;
        OnPendingCompletedHere(pending);
    }

    /// <summary>Takes over a call that started inline on the caller's thread and did not complete synchronously.</summary>
    public void AttachInline(ValueTask<T> pending, ActivationData activation, long startTimestamp)
    {
        Activation = activation;
        _startTimestamp = startTimestamp;
        _pending = pending;
        OnPendingCompletedHere(pending);
    }

    /// <summary>
    /// Registers for the end of the grain's work, handled on the thread that ends it: as a rule the activation's
    /// pump, in the same turn (see <see cref="InlineCompletionContext"/>).
    /// </summary>
    private void OnPendingCompletedHere(ValueTask<T> pending) => InlineCompletionContext.OnCompleted(pending.GetAwaiter(), _onPendingCompleted);

    private void OnPendingCompleted() => Finish(_pending);

    private void Finish(ValueTask<T> completed)
    {
        _pending = default;
        T result = default!;
        Exception? error = null;
        try
        {
            result = completed.Result;
        }
        catch (Exception e)
        {
            error = e;
        }
        Method.Statistics.Record(Stopwatch.GetTimestamp() - _startTimestamp, error is not null);
        if (error is InconsistentStateException) Activation!.RequestDeactivation(DeactivationReason.InconsistentState);
        Activation!.OnRequestFinished(this);
        if (error is null) Respond(result, null, Epoch);
        else Respond(default!, error, Epoch);
        Release();
    }

    public override void Reject(Exception error)
    {
        Respond(default!, error, Epoch);
        Release();
    }

    public override void Forward(GrainRuntime runtime) => _ = ForwardAsync(runtime);

    private async Task ForwardAsync(GrainRuntime runtime)
    {
        var epoch = Epoch;
        try
        {
            Respond(await runtime.InvokeAsync(Target, _request, 1, mayRunInline: true).ConfigureAwait(false), null, epoch);
        }
        catch (Exception e)
        {
            Respond(default!, e, epoch);
        }
        Release();
    }

    internal override void TimeOut(TimeSpan timeout, int epoch)
        => Respond(default!, new TimeoutException($"Call to {Target}.{Method.MethodName} ({Method.InterfaceName}) timed out after {timeout.TotalSeconds:0.###} s: no response within the deadline."), epoch);

    private void Respond(T result, Exception? error, int epoch)
    {
        var open = epoch << 1;
        if (Interlocked.CompareExchange(ref _responseState, open | 1, open) != open) return;
        _runtime.Deadlines.Unregister(this);
        // The caller's continuation may run inline here; it must not inherit this activation's context.
        var context = SynchronizationContext.Current;
        if (context is not null) SynchronizationContext.SetSynchronizationContext(null);
        // Inside a pump that has other work waiting, the caller resumes on the pool instead: its code would
        // hold this activation's thread (an HTTP handler writing its reply, say) while the grain's queue waits.
        if (context is ActivationSynchronizationContext { Activation.HasWaitingWork: true }) _response.RunContinuationsAsynchronously = true;
        try
        {
            if (error is null) _response.SetResult(result);
            else _response.SetException(error);
        }
        finally
        {
            if (context is not null) SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) == 0) Recycle();
    }

    private void Recycle()
    {
        // A new epoch first: a timeout the wheel collected for the old use can no longer respond.
        var epoch = (Epoch + 1) & 0x3FFF_FFFF;
        Epoch = epoch;
        Volatile.Write(ref _responseState, epoch << 1);
        _response.Reset();
        _response.RunContinuationsAsynchronously = false;
        Activation = null;
        _request = null!;
        _pending = default;
        _activity = null;
        CallPool<Message<T>>.Return(this);
    }

    public T GetResult(short token)
    {
        // Checked here, not only by the core: a second read must not give the message back twice.
        if (token != _response.Version) throw new InvalidOperationException($"The response of a call to {Target}.{Method.MethodName} was read twice; a ValueTask may be awaited only once.");
        try
        {
            return _response.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _response.GetStatus(token);
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _response.OnCompleted(continuation, state, token, flags);
}
