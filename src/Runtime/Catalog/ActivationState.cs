namespace Platform.Runtime.Catalog;

/// <summary>Lifecycle of one activation.</summary>
internal enum ActivationState
{
    /// <summary>Created; activation runs on its first turn.</summary>
    Creating,
    Activating,
    Valid,
    Deactivating,
    /// <summary>Gone: messages that reach it are sent to a new activation.</summary>
    Invalid,
}

/// <summary>Why an activation is going away.</summary>
public enum DeactivationReason
{
    ApplicationRequested,
    IdleCollection,
    ShuttingDown,

    /// <summary>Another silo owns the grain under the current view.</summary>
    PlacementChanged,

    /// <summary>A call failed with <see cref="InconsistentStateException"/>: the activation's state is stale, the next one reads it afresh.</summary>
    InconsistentState,

    /// <summary>A write failed for want of storage: the grain backs off before its next activation, which reads its state afresh.</summary>
    StorageUnavailable,
}
