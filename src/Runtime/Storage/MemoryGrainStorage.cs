namespace Platform.Runtime.Storage;

/// <summary>
/// Grain state held in process memory, with the same ETag rules as the durable providers.
/// For tests and throwaway single-process runs: nothing survives the process.
/// </summary>
public sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Type, string Key, string State), StoredState> _states = [];

    // One counter for every row: an ETag is never reused, even after a clear, so a writer holding an
    // ETag from before the clear cannot overwrite the state that was created after it.
    private long _lastETag;

    /// <inheritdoc />
    public Task<StoredState?> ReadAsync(string grainType, string grainKey, string stateName, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_states.TryGetValue((grainType, grainKey, stateName), out var state) ? state : (StoredState?)null);
        }
    }

    /// <inheritdoc />
    public Task<string> WriteAsync(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        cancellationToken.ThrowIfCancellationRequested();

        // Copy so the caller may reuse its buffer once the write returns.
        var copy = data.ToArray();
        lock (_gate)
        {
            var address = (grainType, grainKey, stateName);
            var stored = _states.TryGetValue(address, out var state) ? state.ETag : null;
            if (!string.Equals(stored, expectedETag, StringComparison.Ordinal))
            {
                return Task.FromException<string>(InconsistentStateException.ETagMismatch(grainType, grainKey, stateName, expectedETag, stored));
            }

            var eTag = (++_lastETag).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _states[address] = new StoredState(copy, eTag);
            return Task.FromResult(eTag);
        }
    }

    /// <inheritdoc />
    public Task ClearAsync(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken = default)
    {
        StorageAddress.Validate(grainType, grainKey, stateName);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var address = (grainType, grainKey, stateName);
            var stored = _states.TryGetValue(address, out var state) ? state.ETag : null;
            if (!string.Equals(stored, expectedETag, StringComparison.Ordinal))
            {
                return Task.FromException(InconsistentStateException.ETagMismatch(grainType, grainKey, stateName, expectedETag, stored));
            }

            _states.Remove(address);
            return Task.CompletedTask;
        }
    }

}
