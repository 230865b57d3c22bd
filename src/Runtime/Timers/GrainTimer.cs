using Platform.Runtime.Catalog;
using Platform.Runtime.Invocation;
using Platform.Runtime.Messaging;

namespace Platform.Runtime.Timers;

/// <summary>
/// A per-activation timer. Each tick is queued to the activation as a request, so it respects the
/// grain's turn; the next tick is armed only after the previous one finished, so ticks never overlap.
/// </summary>
internal sealed class GrainTimer : Invokable<VoidResult>, IDisposable
{
    private readonly ActivationData _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan _period;
    private readonly Timer _timer;
    private readonly CancellationTokenSource _disposed = new();

    public GrainTimer(ActivationData activation, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan) throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "Timer due time must be zero or positive.");
        if (period <= TimeSpan.Zero && period != Timeout.InfiniteTimeSpan) throw new ArgumentOutOfRangeException(nameof(period), period, "Timer period must be positive or Timeout.InfiniteTimeSpan.");
        _activation = activation;
        _callback = callback;
        _period = period;
        _timer = new Timer(static s => ((GrainTimer)s!).OnDue(), this, Timeout.Infinite, Timeout.Infinite);
        activation.AddTimer(this);
        _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
    }

    public override GrainMethodDescriptor Method => _activation.Class?.TimerMethod ?? throw new InvalidOperationException("Timers belong to grains.");

    public override object?[] GetArguments() => [];

    private void OnDue()
    {
        if (_disposed.IsCancellationRequested) return;
        var tick = new Message<VoidResult>(_activation.GrainId, this, _activation.Runtime);
        if (!_activation.TryEnqueue(tick, touch: false)) Dispose();
    }

    public override ValueTask<VoidResult> Invoke(object target) => RunTick();

    private async ValueTask<VoidResult> RunTick()
    {
        try
        {
            await _callback(_disposed.Token);
        }
        catch (Exception e)
        {
            _activation.Runtime.LogUnhandled(_activation, e);
        }
        if (!_disposed.IsCancellationRequested && _period != Timeout.InfiniteTimeSpan)
        {
            try
            {
                _timer.Change(_period, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
        }
        return default;
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _timer.Dispose();
        _activation.RemoveTimer(this);
    }
}
