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

    /// <summary>
    /// Most frames waiting to be written to one peer; a send over it fails at once with
    /// <see cref="SiloOverloadedException"/>, so a peer that stops reading cannot grow this silo's memory. Default 262,144
    /// (about 50 MB of small calls; the batch being written adds at most 1 MiB).
    /// </summary>
    public int MaxQueuedFrames { get; set; } = 262_144;

    /// <summary>Mutual TLS between silos (<c>Platform:Cluster:Tls</c>); without a certificate the transport is plain TCP.</summary>
    public SiloTlsOptions Tls { get; set; } = new();
}
