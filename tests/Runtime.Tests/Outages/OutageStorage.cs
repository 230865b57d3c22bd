using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Outages;

/// <summary>
/// Grain storage in memory that can be switched off: while <see cref="Down"/>, every call fails with
/// <see cref="StorageUnavailableException"/> and is reported to the monitor, as the durable providers do.
/// <see cref="Gate"/>, when set, holds reads until the test opens it.
/// </summary>
public sealed class OutageStorage(StorageMonitor monitor) : IGrainStorage
{
    private readonly MemoryGrainStorage _inner = new();
    private readonly StorageDependency _dependency = monitor.Get("test storage at 192.0.2.1:5432");
    private int _reads;

    public volatile bool Down;
    public volatile TaskCompletionSource? Gate;

    /// <summary>Reads tried, failed or not: one per activation attempt.</summary>
    public int Reads => Volatile.Read(ref _reads);

    public async Task<StoredState?> ReadAsync(string grainType, string grainKey, string stateName, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        if (Gate is { } gate) await gate.Task;
        Check("reading");
        return await _inner.ReadAsync(grainType, grainKey, stateName, cancellationToken);
    }

    public Task<string> WriteAsync(string grainType, string grainKey, string stateName, ReadOnlyMemory<byte> data, string? expectedETag, CancellationToken cancellationToken = default)
    {
        Check("writing");
        return _inner.WriteAsync(grainType, grainKey, stateName, data, expectedETag, cancellationToken);
    }

    public Task ClearAsync(string grainType, string grainKey, string stateName, string? expectedETag, CancellationToken cancellationToken = default)
    {
        Check("clearing");
        return _inner.ClearAsync(grainType, grainKey, stateName, expectedETag, cancellationToken);
    }

    private void Check(string operation)
    {
        if (!Down)
        {
            _dependency.ReportSuccess();
            return;
        }

        var failure = new StorageUnavailableException($"test storage at 192.0.2.1:5432: {operation} failed: connection refused", new IOException("connection refused"));
        _dependency.ReportFailure(failure);
        throw failure;
    }
}
