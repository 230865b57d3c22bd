using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Catalog;
using Platform.Runtime.Timers;

namespace Platform.Runtime;

/// <summary>Base class of grains: identity, lifecycle hooks, timers and reminders.</summary>
public abstract class Grain
{
    private readonly ActivationData _activation;

    /// <summary>Grains are constructed by the runtime, never with <c>new</c>.</summary>
    protected Grain()
    {
        _activation = ActivationData.Constructing
            ?? throw new InvalidOperationException($"{GetType().Name} is a grain: get a reference with IGrainFactory.GetGrain instead of constructing it.");
    }

    internal ActivationData Activation => _activation;

    /// <summary>This grain's identity.</summary>
    public GrainId GrainId => _activation.GrainId;

    /// <summary>This grain's key.</summary>
    public string GetPrimaryKeyString() => _activation.GrainId.Key;

    /// <summary>Makes references to other grains.</summary>
    protected IGrainFactory GrainFactory => _activation.Runtime;

    /// <summary>The silo's services.</summary>
    protected IServiceProvider ServiceProvider => _activation.Runtime.Services;

    /// <summary>Runs once before the first call, after persistent state was read.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once when the activation goes away (idle, requested, or silo stopping).</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation once the current request finishes.</summary>
    protected void DeactivateOnIdle() => _activation.RequestDeactivation(DeactivationReason.ApplicationRequested);

    /// <summary>
    /// Deactivates once the current request finishes because a write failed for want of storage; the grain then backs
    /// off before its next activation, as after an activation that failed for that reason.
    /// </summary>
    protected void DeactivateOnIdle(StorageUnavailableException cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        _activation.RequestDeactivation(DeactivationReason.StorageUnavailable, cause);
    }

    /// <summary>
    /// A timer that runs <paramref name="callback"/> inside this activation's turn, first after
    /// <paramref name="dueTime"/> and then every <paramref name="period"/> (counted from the end of the previous tick);
    /// it dies with the activation and does not keep it alive.
    /// </summary>
    protected IDisposable RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
        => new GrainTimer(_activation, callback, dueTime, period);

    /// <summary>Registers or updates a durable reminder: it survives deactivation and silo restarts and reactivates this grain to call <see cref="IRemindable.ReceiveReminder"/>.</summary>
    protected Task RegisterOrUpdateReminder(string reminderName, TimeSpan dueTime, TimeSpan period)
        => ServiceProvider.GetRequiredService<ReminderService>().RegisterOrUpdateAsync(GrainId, reminderName, dueTime, period);

    /// <summary>Removes a reminder; false when none had that name.</summary>
    protected Task<bool> UnregisterReminder(string reminderName)
        => ServiceProvider.GetRequiredService<ReminderService>().UnregisterAsync(GrainId, reminderName);
}
