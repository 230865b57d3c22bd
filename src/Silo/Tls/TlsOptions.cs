namespace Platform.Silo.Tls;

/// <summary>Section "Platform:Tls": HTTPS on the silo's HTTP listener and client certificates for agents (docs/tls.md).</summary>
public sealed class TlsOptions
{
    public const string Section = "Platform:Tls";

    /// <summary>PEM file with the server certificate (first certificate in the file). None: the listener is plain HTTP. Command line: --tls-cert.</summary>
    public string? Cert { get; set; }

    /// <summary>PEM file with the certificate's private key (unencrypted). None: the key is read from <see cref="Cert"/>. Command line: --tls-key.</summary>
    public string? Key { get; set; }

    /// <summary>PEM bundle of the CA certificates agents' client certificates must chain to. Command line: --tls-client-ca.</summary>
    public string? ClientCa { get; set; }

    /// <summary>
    /// Client certificates on <c>/v1/agent/connect</c>: "required", "optional" (checked when one is sent) or "none".
    /// Default: "required" when <see cref="ClientCa"/> is set, else "none". Command line: --tls-client-cert.
    /// </summary>
    public string? ClientCert { get; set; }

    /// <summary>How often the certificate files are checked for changes besides file-system notifications. Default one minute.</summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>What the silo asks of an agent's client certificate.</summary>
public enum ClientCertificateRequirement
{
    /// <summary>No certificate is asked for.</summary>
    None,

    /// <summary>A certificate is checked when the agent sends one; an agent without one is let in.</summary>
    Optional,

    /// <summary>An agent needs a certificate signed by the configured CA.</summary>
    Required,
}
