namespace Platform.Runtime.Storage;

/// <summary>A stored grain state: serialized bytes and the ETag that guards the next write.</summary>
public readonly record struct StoredState(ReadOnlyMemory<byte> Data, string ETag);

/// <summary>
/// A durable store for grain state, addressed by (grain type, grain key, state name).
/// Writes are optimistic: the writer passes the ETag it last read (null when it read nothing);
/// a mismatch throws <see cref="InconsistentStateException"/>. A write that returned is durable.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Reads a state; null when none is stored.</summary>
    Task<StoredState?> ReadAsync(string grainType, string grainKey, string stateName, CancellationToken cancellationToken = default);

    /// <summary>Writes a state if the stored ETag equals <paramref name="expectedETag"/> (null: nothing stored); returns the new ETag. The caller must not change <paramref name="data"/> until the task completes.</summary>
    Task<string> WriteAsync(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Deletes a state if the stored ETag equals <paramref name="expectedETag"/>; clearing nothing with a null ETag succeeds.</summary>
    Task ClearAsync(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken = default);
}

/// <summary>Resolves storage providers by name ("Default" when a grain names none).</summary>
public interface IGrainStorageRegistry
{
    /// <summary>The provider registered under <paramref name="name"/> (null: "Default"); throws naming the registered ones when there is none.</summary>
    IGrainStorage Get(string? name);
}
