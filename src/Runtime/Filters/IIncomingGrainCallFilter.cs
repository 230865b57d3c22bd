using Platform.Runtime.Invocation;

namespace Platform.Runtime.Filters;

/// <summary>Wraps every call a grain receives (after scheduling, inside the grain's turn).</summary>
public interface IIncomingGrainCallFilter
{
    /// <summary>Runs around the call; must call <see cref="IIncomingGrainCallContext.Invoke"/> to proceed.</summary>
    Task Invoke(IIncomingGrainCallContext context);
}

/// <summary>One incoming call as a filter sees it.</summary>
public interface IIncomingGrainCallContext
{
    GrainId GrainId { get; }
    object Grain { get; }
    GrainMethodDescriptor Method { get; }
    IReadOnlyList<object?> Arguments { get; }

    /// <summary>The call's result once <see cref="Invoke"/> completed; a filter may replace it.</summary>
    object? Result { get; set; }

    /// <summary>Runs the next filter or the grain method.</summary>
    Task Invoke();
}

internal sealed class IncomingGrainCallContext<T>(IIncomingGrainCallFilter[] filters, Invokable<T> request, object grain, GrainId grainId) : IIncomingGrainCallContext
{
    private int _next;

    public GrainId GrainId { get; } = grainId;
    public object Grain { get; } = grain;
    public GrainMethodDescriptor Method => request.Method;
    public IReadOnlyList<object?> Arguments => request.GetArguments();
    public object? Result { get; set; }

    public async Task Invoke()
    {
        if (_next < filters.Length)
        {
            await filters[_next++].Invoke(this);
            return;
        }
        Result = await request.Invoke(Grain);
    }

    public async ValueTask<T> Run()
    {
        await Invoke();
        return Result is T value ? value : default!;
    }
}
