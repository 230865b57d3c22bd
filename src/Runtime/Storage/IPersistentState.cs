namespace Platform.Runtime;

/// <summary>A grain's durable state, read before activation and written when the grain asks.</summary>
public interface IPersistentState<TState>
{
    /// <summary>The state value (a new instance when nothing is stored).</summary>
    TState State { get; set; }

    /// <summary>ETag of the stored version this activation last read or wrote; null when none.</summary>
    string? Etag { get; }

    /// <summary>Whether a stored record exists.</summary>
    bool RecordExists { get; }

    /// <summary>Re-reads the stored state.</summary>
    Task ReadStateAsync();

    /// <summary>Writes the state; throws <see cref="InconsistentStateException"/> if someone else wrote since this activation read. Durable once it returns.</summary>
    Task WriteStateAsync();

    /// <summary>Deletes the stored state and resets <see cref="State"/>.</summary>
    Task ClearStateAsync();
}
