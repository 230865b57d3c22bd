namespace Platform.Runtime;

/// <summary>Marker for every grain interface.</summary>
public interface IGrain;

/// <summary>A grain addressed by a string key: the only key kind the runtime uses.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>Marker for observer interfaces: objects outside (or inside) grains that receive pushes.</summary>
public interface IGrainObserver;

/// <summary>Creates references to grains and observers.</summary>
public interface IGrainFactory
{
    /// <summary>A reference to the grain of interface <typeparamref name="TGrain"/> with key <paramref name="key"/>; no activation happens until a call.</summary>
    TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey;

    /// <summary>Makes <paramref name="observer"/> addressable so that grains can push to it; calls are delivered one at a time.</summary>
    TObserver CreateObjectReference<TObserver>(TObserver observer) where TObserver : class, IGrainObserver;

    /// <summary>Removes an object reference; later calls on it fail with <see cref="ObserverNotFoundException"/>.</summary>
    void DeleteObjectReference<TObserver>(TObserver reference) where TObserver : class, IGrainObserver;
}

/// <summary>Implemented by grains that register reminders.</summary>
public interface IRemindable : IGrain
{
    /// <summary>Called when a reminder named <paramref name="reminderName"/> fires.</summary>
    Task ReceiveReminder(string reminderName, TickStatus status);
}

/// <summary>What a reminder tick knows about its schedule.</summary>
public readonly record struct TickStatus(DateTimeOffset FirstTickTime, TimeSpan Period, DateTimeOffset CurrentTickTime);
