namespace Platform.Runtime;

/// <summary>A stored state's ETag did not match the one the writer held: someone else wrote first.</summary>
public sealed class InconsistentStateException(string message, string? storedETag = null, string? currentETag = null) : Exception(message)
{
    public string? StoredETag { get; } = storedETag;
    public string? CurrentETag { get; } = currentETag;

    /// <summary>The error every storage provider throws when a write's expected ETag is not the stored one.</summary>
    public static InconsistentStateException ETagMismatch(string grainType, string grainKey, string stateName, string? expected, string? stored) =>
        new($"grain {grainType}/{grainKey} state '{stateName}': ETag mismatch, expected {expected ?? "none"}, stored {stored ?? "none"}",
            storedETag: stored, currentETag: expected);
}

/// <summary>A call to an observer whose reference was deleted or whose subscriber went away.</summary>
public sealed class ObserverNotFoundException(string message) : Exception(message);

/// <summary>A grain could not be activated; the inner exception says why.</summary>
public sealed class GrainActivationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The runtime refused a call (shutting down, unknown grain interface, …).</summary>
public sealed class RuntimeRejectedException(string message) : Exception(message);
