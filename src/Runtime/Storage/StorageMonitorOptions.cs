namespace Platform.Runtime.Storage;

/// <summary>Tunables of the <see cref="StorageMonitor"/> (section <c>Platform:Runtime:StorageMonitor</c> in the silo).</summary>
public sealed class StorageMonitorOptions
{
    /// <summary>While a dependency is unreachable, how often the log says how many calls failed meanwhile. Default 10 s.</summary>
    public TimeSpan SummaryInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>While a dependency is unreachable, how often one cheap statement checks whether it is back. Default 1 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal void Validate()
    {
        if (SummaryInterval <= TimeSpan.Zero)
            throw new ArgumentException($"StorageMonitorOptions.SummaryInterval must be positive; it is {SummaryInterval}.");
        if (ProbeInterval <= TimeSpan.Zero)
            throw new ArgumentException($"StorageMonitorOptions.ProbeInterval must be positive; it is {ProbeInterval}.");
    }
}
