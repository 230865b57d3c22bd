namespace Platform.Runtime.Transport;

/// <summary>Silo-to-silo TCP settings.</summary>
public sealed class TransportOptions
{
    /// <summary>Address to listen on. Default 127.0.0.1 (loopback, like every listener unless configured).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one. Default 11111.</summary>
    public int Port { get; set; } = 11111;

    /// <summary>Address other silos use to reach this one. Default: <see cref="ListenAddress"/> (or 127.0.0.1 when listening on any).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Largest frame sent or accepted. Default 16 MiB.</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long connecting to a peer may take. Default 3 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
