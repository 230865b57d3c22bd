namespace Platform.Runtime.Hosting;

/// <summary>Tunables of the grain runtime on one silo.</summary>
public sealed class SiloOptions
{
    /// <summary>Name of this silo in logs and /v1/cluster. Default: the machine name.</summary>
    public string SiloName { get; set; } = Environment.MachineName;

    /// <summary>Deadline of every grain call; past it the caller gets a <see cref="TimeoutException"/>. Default 30 s.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An activation idle this long is deactivated. Default 15 min.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often idle activations are looked for. Default 1 min (at most a quarter of <see cref="CollectionAge"/>).</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest a grain's activation (state reads and OnActivateAsync) may take. Default 30 s.</summary>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After an activation failed for want of storage, calls that would activate the grain again fail at once for this
    /// long, doubling per failure in a row up to <see cref="ActivationBackoffMaximum"/> (±20% jitter). Default 200 ms.
    /// </summary>
    public TimeSpan ActivationBackoffMinimum { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest back-off between activation tries of a grain while storage is unavailable. Default 5 s.</summary>
    public TimeSpan ActivationBackoffMaximum { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest OnDeactivateAsync may take. Default 30 s.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Shortest reminder period accepted. Default 1 s.</summary>
    public TimeSpan MinimumReminderPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest a graceful stop waits for grains to deactivate. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (ActivationBackoffMinimum <= TimeSpan.Zero)
            throw new ArgumentException($"SiloOptions.ActivationBackoffMinimum must be positive; it is {ActivationBackoffMinimum}.");
        if (ActivationBackoffMaximum < ActivationBackoffMinimum)
            throw new ArgumentException($"SiloOptions.ActivationBackoffMaximum ({ActivationBackoffMaximum}) must be at least ActivationBackoffMinimum ({ActivationBackoffMinimum}).");
    }
}
