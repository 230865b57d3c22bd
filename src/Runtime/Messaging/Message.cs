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

    public GrainId Target { get; }
    public GrainMethodDescriptor Method { get; }

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

internal sealed class Message<T> : Message, IValueTaskSource<T>
{
    private readonly Invokable<T> _request;
    private readonly GrainRuntime _runtime;
    private ManualResetValueTaskSourceCore<T> _response;
    private int _responded;
    private ValueTask<T> _pending;
    private long _startTimestamp;

    public Message(GrainId target, Invokable<T> request, GrainRuntime runtime) : base(target, request.Method)
    {
        _request = request;
        _runtime = runtime;
    }

    public ValueTask<T> AsValueTask() => new(this, _response.Version);

    public override void Execute(object target, ActivationData activation)
    {
        Activation = activation;
        _startTimestamp = Stopwatch.GetTimestamp();
        ValueTask<T> pending;
        try
        {
            pending = _runtime.InvokeRequest(_request, target, activation);
        }
        catch (Exception e)
        {
            pending = ValueTask.FromException<T>(e);
        }
        if (pending.IsCompleted)
        {
            Finish(pending);
            return;
        }
        _pending = pending;
        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnPendingCompleted);
    }

    /// <summary>Takes over a call that started inline on the caller's thread and did not complete synchronously.</summary>
    public void AttachInline(ValueTask<T> pending, ActivationData activation, long startTimestamp)
    {
        Activation = activation;
        _startTimestamp = startTimestamp;
        _pending = pending;
        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnPendingCompleted);
    }

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
        if (error is null) Respond(result, null);
        else Respond(default!, error);
    }

    public override void Reject(Exception error) => Respond(default!, error);

    public override void Forward(GrainRuntime runtime) => _ = ForwardAsync(runtime);

    private async Task ForwardAsync(GrainRuntime runtime)
    {
        try
        {
            Respond(await runtime.InvokeAsync(Target, _request, 1, mayRunInline: true).ConfigureAwait(false), null);
        }
        catch (Exception e)
        {
            Respond(default!, e);
        }
    }

    internal override void TimeOut(TimeSpan timeout)
        => Respond(default!, new TimeoutException($"Call to {Target}.{Method.MethodName} ({Method.InterfaceName}) timed out after {timeout.TotalSeconds:0.###} s: no response within the deadline."));

    private void Respond(T result, Exception? error)
    {
        if (Interlocked.Exchange(ref _responded, 1) != 0) return;
        _runtime.Deadlines.Unregister(this);
        // The caller's continuation may run inline here; it must not inherit this activation's context.
        var context = SynchronizationContext.Current;
        if (context is not null) SynchronizationContext.SetSynchronizationContext(null);
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

    public T GetResult(short token) => _response.GetResult(token);
    public ValueTaskSourceStatus GetStatus(short token) => _response.GetStatus(token);
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _response.OnCompleted(continuation, state, token, flags);
}
