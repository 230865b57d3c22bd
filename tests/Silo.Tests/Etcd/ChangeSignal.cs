namespace Platform.Silo.Tests.Etcd;

/// <summary>Wakes whoever waits for a condition each time something it depends on changes: waiting without sleeping.</summary>
public sealed class ChangeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Something changed: waiters check their condition again.</summary>
    public void Notify()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>True once <paramref name="condition"/> holds; false when <paramref name="timeout"/> passes or <paramref name="giveUp"/> completes first.</summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Task? giveUp = null)
    {
        using var expired = new CancellationTokenSource(timeout);
        var deadline = Task.Delay(Timeout.Infinite, expired.Token);
        while (true)
        {
            Task changed;
            lock (_gate) changed = _changed.Task;
            if (condition()) return true;
            if (deadline.IsCompleted || giveUp is { IsCompleted: true }) return false;
            await Task.WhenAny(changed, deadline, giveUp ?? deadline);
        }
    }
}
