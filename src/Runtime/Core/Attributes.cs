namespace Platform.Runtime;

/// <summary>Requests of a reentrant grain interleave at await points (still one thread at a time).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>This method may interleave with any other request of its grain.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>This method does not change state: it may interleave with other read-only requests.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadOnlyAttribute : Attribute;

/// <summary>Fire-and-forget: the caller does not wait for the grain to run the method.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;

/// <summary>A stateless worker: a local pool of up to <see cref="MaxLocalWorkers"/> activations per key.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class StatelessWorkerAttribute(int maxLocalWorkers = 0) : Attribute
{
    /// <summary>Pool size; 0 means one per processor.</summary>
    public int MaxLocalWorkers { get; } = maxLocalWorkers;
}

/// <summary>Names a grain class's type in grain ids (default: class name without a trailing "Grain", lower-cased).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Marks a constructor parameter of type <see cref="IPersistentState{T}"/> to be filled with durable state.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    public string StateName { get; } = stateName;
    public string? StorageName { get; } = storageName;
}
