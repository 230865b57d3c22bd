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
}

/// <summary>A call returning <typeparamref name="TResult"/>; <see cref="Invoke"/> runs it on the target object.</summary>
public abstract class Invokable<TResult> : Invokable
{
    /// <summary>Runs the method on <paramref name="target"/> (the grain or observer instance).</summary>
    public abstract ValueTask<TResult> Invoke(object target);

    /// <summary>Adapts a <see cref="Task"/> to the uniform result shape without allocating when it already completed.</summary>
    protected static ValueTask<VoidResult> FromTask(Task task)
    {
        if (task.IsCompletedSuccessfully) return default;
        return Await(task);

        static async ValueTask<VoidResult> Await(Task t)
        {
            await t.ConfigureAwait(false);
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
            await t.ConfigureAwait(false);
            return default;
        }
    }
}
