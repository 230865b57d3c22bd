namespace Platform.Runtime.Hosting;

/// <summary>How a silo joins a cluster; the transport and membership have options of their own.</summary>
public sealed class ClusterOptions
{
    /// <summary>Longest a graceful stop waits for calls this silo forwarded to finish. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest a grain's new owner waits for the previous owner to confirm it let go, before activating anyway (the
    /// journal's epochs and storage ETags then keep the two activations from overwriting each other). Default 5 s.
    /// </summary>
    public TimeSpan HandOffTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Called when this silo reads itself declared Dead; the default ends the process at once (exit code 3).</summary>
    public Action? OnDeclaredDead { get; set; }

    /// <summary>The HTTP address this silo advertises in the membership table (shown by /v1/cluster).</summary>
    public string? HttpUrl { get; set; }
}
