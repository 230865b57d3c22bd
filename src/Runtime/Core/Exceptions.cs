namespace Platform.Runtime;

/// <summary>A stored state's ETag did not match the one the writer held: someone else wrote first.</summary>
public sealed class InconsistentStateException(string message, string? storedETag = null, string? currentETag = null) : Exception(message)
{
    public string? StoredETag { get; } = storedETag;
    public string? CurrentETag { get; } = currentETag;
}

/// <summary>A call to an observer whose reference was deleted or whose subscriber went away.</summary>
public sealed class ObserverNotFoundException(string message) : Exception(message);

/// <summary>A grain could not be activated; the inner exception says why.</summary>
public sealed class GrainActivationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The runtime refused a call (shutting down, unknown grain interface, …).</summary>
public sealed class RuntimeRejectedException(string message) : Exception(message);
