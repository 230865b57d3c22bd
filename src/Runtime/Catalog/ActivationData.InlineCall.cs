using Platform.Runtime.Invocation;
using Platform.Runtime.Messaging;

namespace Platform.Runtime.Catalog;

/// <summary>Calls that run on the caller's thread when the activation is idle: no queue, no thread hop.</summary>
internal sealed partial class ActivationData
{
    private const int MaxInlineDepth = 4;

    [ThreadStatic] private static int t_inlineDepth;

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
}
