namespace Platform.Runtime.Transport;

/// <summary>
/// Mutual TLS on silo-to-silo connections (settings <c>Platform:Cluster:Tls</c>): every silo presents a certificate of
/// the cluster's CA and takes only peers whose certificate chains to that CA. No certificate: plain TCP.
/// </summary>
public sealed class SiloTlsOptions
{
    /// <summary>PEM file with this silo's certificate (the first in the file). Command line of the silo: --silo-tls-cert.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM file with its private key (unencrypted); none: read from <see cref="CertificateFile"/>. Command line: --silo-tls-key.</summary>
    public string? KeyFile { get; set; }

    /// <summary>PEM bundle of the cluster's CA (and any intermediates) that peers' certificates must chain to. Command line: --silo-tls-ca.</summary>
    public string? CaFile { get; set; }

    /// <summary>True when a certificate is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificateFile);
}
