using System.Runtime.CompilerServices;

namespace Platform.Runtime.Messaging;

/// <summary>
/// A context captured only to register a callback that must run on whichever thread completes the awaited work,
/// whatever context that thread has. A task runs a context-free continuation (<c>ConfigureAwait(false)</c>) inline
/// only when no foreign context is current; an activation's pump always has one, so the end of every grain call
/// that suspended was queued to the thread pool, a hop per call. A continuation that captured a context is either
/// run inline (the same context is current) or posted to it, and posting here runs it at once.
/// </summary>
internal sealed class InlineCompletionContext : SynchronizationContext
{
    private static readonly InlineCompletionContext Instance = new();

    private InlineCompletionContext()
    {
    }

    public override void Post(SendOrPostCallback d, object? state) => d(state);

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Registers <paramref name="continuation"/> to run on the thread that completes <paramref name="awaiter"/>'s work.</summary>
    public static void OnCompleted<TAwaiter>(TAwaiter awaiter, Action continuation) where TAwaiter : ICriticalNotifyCompletion
    {
        var previous = Current;
        SetSynchronizationContext(Instance);
        try
        {
            awaiter.UnsafeOnCompleted(continuation);
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}

/// <summary>Awaits a task, continuing on the thread that completes it (see <see cref="InlineCompletionContext"/>).</summary>
internal readonly struct InlineTaskAwaitable(Task task) : ICriticalNotifyCompletion
{
    public InlineTaskAwaitable GetAwaiter() => this;
    public bool IsCompleted => task.IsCompleted;
    public void GetResult() => task.GetAwaiter().GetResult();
    public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);
    public void UnsafeOnCompleted(Action continuation) => InlineCompletionContext.OnCompleted(task.GetAwaiter(), continuation);
}

/// <summary>Awaits a value task, continuing on the thread that completes it (see <see cref="InlineCompletionContext"/>).</summary>
internal readonly struct InlineValueTaskAwaitable(ValueTask task) : ICriticalNotifyCompletion
{
    public InlineValueTaskAwaitable GetAwaiter() => this;
    public bool IsCompleted => task.IsCompleted;
    public void GetResult() => task.GetAwaiter().GetResult();
    public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);
    public void UnsafeOnCompleted(Action continuation) => InlineCompletionContext.OnCompleted(task.GetAwaiter(), continuation);
}
