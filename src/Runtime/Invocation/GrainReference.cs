namespace Platform.Runtime.Invocation;

/// <summary>Sends calls to grains; implemented by the runtime.</summary>
public interface IGrainCallInvoker
{
    /// <summary>Delivers <paramref name="request"/> to the grain <paramref name="target"/> and returns its result.</summary>
    ValueTask<TResult> InvokeAsync<TResult>(GrainId target, Invokable<TResult> request);
}

/// <summary>Base of every generated grain and observer proxy: a grain id plus the invoker that carries calls.</summary>
public abstract class GrainReference(IGrainCallInvoker invoker, GrainId grainId) : IEquatable<GrainReference>
{
    private readonly IGrainCallInvoker _invoker = invoker;

    /// <summary>The referenced grain.</summary>
    public GrainId GrainId { get; } = grainId;

    /// <summary>Sends a call and returns its result.</summary>
    protected ValueTask<TResult> InvokeAsync<TResult>(Invokable<TResult> request) => _invoker.InvokeAsync(GrainId, request);

    /// <summary>Sends a call and returns at once; failures are not reported to the caller.</summary>
    protected void InvokeOneWay(Invokable<VoidResult> request)
    {
        var pending = _invoker.InvokeAsync(GrainId, request);
        if (!pending.IsCompleted) pending.AsTask().ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Converts a uniform void result to the <see cref="Task"/> a proxy method returns.</summary>
    protected static Task ToTask(ValueTask<VoidResult> pending)
    {
        if (pending.IsCompletedSuccessfully) return Task.CompletedTask;
        return pending.AsTask();
    }

    /// <summary>Converts a uniform void result to the <see cref="ValueTask"/> a proxy method returns.</summary>
    protected static ValueTask ToValueTask(ValueTask<VoidResult> pending)
    {
        if (pending.IsCompletedSuccessfully) return default;
        return new ValueTask(pending.AsTask());
    }

    public bool Equals(GrainReference? other) => other is not null && GrainId == other.GrainId;
    public override bool Equals(object? obj) => obj is GrainReference r && Equals(r);
    public override int GetHashCode() => GrainId.GetHashCode();
    public override string ToString() => GrainId.ToString();
}
