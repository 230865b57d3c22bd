using Platform.Runtime.Serialization;

namespace Platform.Runtime.Invocation;

/// <summary>The result type of methods that return no value.</summary>
public readonly struct VoidResult;

/// <summary>One call's method and arguments; generated per interface method.</summary>
public abstract class Invokable
{
    /// <summary>The method this request calls.</summary>
    public abstract GrainMethodDescriptor Method { get; }

    /// <summary>The argument values, in declaration order (for filters and diagnostics; not used on the call path).</summary>
    public abstract object?[] GetArguments();

    /// <summary>Writes the arguments for a call to another silo (generated).</summary>
    public virtual void WriteArguments(ref MessageWriter writer)
    {
    }

    /// <summary>Reads the arguments of a call from another silo (generated).</summary>
    public virtual void ReadArguments(ref MessageReader reader)
    {
    }

    /// <summary>Runs this call, received from another silo, and sends its result back (typed by the subclass).</summary>
    internal abstract void DispatchRemote(Hosting.GrainRuntime runtime, GrainId target, Messaging.RemoteRequest request);
}

/// <summary>A call returning <typeparamref name="TResult"/>; <see cref="Invoke"/> runs it on the target object.</summary>
public abstract class Invokable<TResult> : Invokable
{
    /// <summary>Runs the method on <paramref name="target"/> (the grain or observer instance).</summary>
    public abstract ValueTask<TResult> Invoke(object target);

    internal sealed override void DispatchRemote(Hosting.GrainRuntime runtime, GrainId target, Messaging.RemoteRequest request)
    {
        ValueTask<TResult> pending;
        try
        {
            // Run here only when the connection's standby thread can take over reading (see ReaderHandoff);
            // otherwise queued, since this is the connection's read loop (see MessageCenter.ReceiveRequest).
            pending = runtime.InvokeAsync(target, this, request.Hops, mayRunInline: Transport.ReaderHandoff.IsArmed);
        }
        catch (Exception e)
        {
            request.RespondError(e);
            return;
        }
        if (pending.IsCompletedSuccessfully)
        {
            request.Respond(pending.Result);
            return;
        }
        _ = AwaitAndRespond(pending, request);
    }

    private static async Task AwaitAndRespond(ValueTask<TResult> pending, Messaging.RemoteRequest request)
    {
        try
        {
            request.Respond(await pending.ConfigureAwait(false));
        }
        catch (Exception e)
        {
            request.RespondError(e);
        }
    }

    /// <summary>Adapts a <see cref="Task"/> to the uniform result shape without allocating when it already completed.</summary>
    protected static ValueTask<VoidResult> FromTask(Task task)
    {
        if (task.IsCompletedSuccessfully) return default;
        return Await(task);

        // Not ConfigureAwait(false): that queues the rest to the thread pool when the grain ends in its pump.
        static async ValueTask<VoidResult> Await(Task t)
        {
            await new Messaging.InlineTaskAwaitable(t);
            return default;
        }
    }

    /// <summary>Adapts a <see cref="ValueTask"/> to the uniform result shape.</summary>
    protected static ValueTask<VoidResult> FromValueTask(ValueTask task)
    {
        if (task.IsCompletedSuccessfully) return default;
        return Await(task);

        static async ValueTask<VoidResult> Await(ValueTask t)
        {
            await new Messaging.InlineValueTaskAwaitable(t);
            return default;
        }
    }
}
