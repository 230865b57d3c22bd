using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Platform.Runtime.Transport;

/// <summary>
/// The certificate a silo presents on silo-to-silo connections and the CA its peers' certificates must chain to. The
/// files are checked for changes whenever a connection is made (dialed or accepted), so a renewed certificate or CA
/// is used from the next connection on; connections already open keep the one they shook hands with.
/// </summary>
internal sealed class SiloTls
{
    private readonly string _certPath;
    private readonly string? _keyPath;
    private readonly string _caPath;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private volatile SiloTlsMaterial _current;
    private long _stamp;

    private SiloTls(string certPath, string? keyPath, string caPath, ILogger logger)
    {
        _certPath = certPath;
        _keyPath = keyPath;
        _caPath = caPath;
        _logger = logger;
        _stamp = SiloTlsFiles.Stamp(certPath, keyPath, caPath);
        _current = Load();
    }

    /// <summary>Null when no certificate is configured (plain TCP); a setting or file that cannot work throws <see cref="SiloTlsException"/>.</summary>
    public static SiloTls? Create(SiloTlsOptions options, ILogger logger)
    {
        if (!options.Enabled)
        {
            if (!string.IsNullOrWhiteSpace(options.CaFile) || !string.IsNullOrWhiteSpace(options.KeyFile))
                throw new SiloTlsException($"{SiloTlsFiles.CaSetting} or {SiloTlsFiles.KeySetting} is set but {SiloTlsFiles.CertSetting} is not: give this silo's certificate too, or none of them for plain TCP.");
            return null;
        }
        if (string.IsNullOrWhiteSpace(options.CaFile))
            throw new SiloTlsException($"{SiloTlsFiles.CertSetting} is set but {SiloTlsFiles.CaSetting} is not: give the PEM file of the cluster's CA, which every silo's certificate must chain to.");
        return new SiloTls(
            Path.GetFullPath(options.CertificateFile!),
            string.IsNullOrWhiteSpace(options.KeyFile) ? null : Path.GetFullPath(options.KeyFile),
            Path.GetFullPath(options.CaFile),
            logger);
    }

    /// <summary>Subject, issuer, thumbprint and expiry: what the log says of a certificate (nothing private).</summary>
    public string Describe() => Describe(_current.Certificate);

    private static string Describe(X509Certificate2 cert)
        => $"{cert.Subject}, issued by {cert.Issuer} (thumbprint {cert.Thumbprint}, valid until {cert.NotAfter.ToUniversalTime():u})";

    /// <summary>The certificate and CA for a new connection, loaded again first if their files changed.</summary>
    public SiloTlsMaterial ForNewConnection()
    {
        var stamp = SiloTlsFiles.Stamp(_certPath, _keyPath, _caPath);
        if (stamp == Volatile.Read(ref _stamp)) return _current;
        lock (_gate)
        {
            if (stamp == _stamp) return _current;
            // A certificate written before its key fails once; writing the key changes the stamp again and retries.
            _stamp = stamp;
            try
            {
                // The one in use is not disposed: connections that shook hands with it may still be open.
                _current = Load();
                TransportLog.TlsReloaded(_logger, Describe(_current.Certificate), _current.Authorities.Count);
            }
            catch (SiloTlsException e)
            {
                TransportLog.TlsReloadFailed(_logger, e.Message);
            }
            return _current;
        }
    }

    private SiloTlsMaterial Load()
    {
        var certificate = SiloTlsFiles.LoadCertificate(_certPath, _keyPath);
        var authorities = SiloTlsFiles.LoadAuthorities(_caPath);
        // Built once per load: building the chain per handshake would cost every connection a chain walk.
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        return new SiloTlsMaterial(certificate, context, authorities);
    }

    /// <summary>Options for a connection a peer dialed: a client certificate is asked for; <paramref name="check"/> records what is wrong with it.</summary>
    public static SslServerAuthenticationOptions ServerOptions(SiloTlsMaterial material, PeerCertificateCheck check) => new()
    {
        ServerCertificateContext = material.Context,
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EnabledSslProtocols = SslProtocols.None,
        // Accepts the handshake whatever the certificate, so that the refusal can travel as a reject frame saying why.
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            check.Problem = Validate(certificate, material.Authorities, SiloTlsFiles.ClientAuthOid);
            return true;
        },
    };

    /// <summary>Options for a connection this silo dials.</summary>
    public static SslClientAuthenticationOptions ClientOptions(SiloTlsMaterial material, string host, PeerCertificateCheck check) => new()
    {
        TargetHost = host,
        ClientCertificateContext = material.Context,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EnabledSslProtocols = SslProtocols.None,
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            check.Problem = Validate(certificate, material.Authorities, SiloTlsFiles.ServerAuthOid);
            return true;
        },
    };

    /// <summary>
    /// Null when <paramref name="certificate"/> chains to a CA of <paramref name="authorities"/> (never the machine's store), is
    /// within its validity period and allows <paramref name="usage"/>; otherwise why not, naming nothing private. Names are
    /// not checked: a silo's identity is its certificate from the cluster's CA, not an address (pods move).
    /// </summary>
    public static string? Validate(X509Certificate? certificate, X509Certificate2Collection authorities, string usage)
    {
        if (certificate is not X509Certificate2 cert) return "presented no certificate";
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(authorities);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = DateTime.UtcNow;
        policy.ApplicationPolicy.Add(new Oid(usage));
        try
        {
            if (chain.Build(cert)) return null;
            var status = X509ChainStatusFlags.NoError;
            foreach (var s in chain.ChainStatus) status |= s.Status;
            var who = $"its certificate ({cert.Subject}, issued by {cert.Issuer})";
            if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return DateTime.UtcNow > cert.NotAfter.ToUniversalTime()
                    ? $"{who} expired on {cert.NotAfter.ToUniversalTime():u}"
                    : $"{who} is not valid before {cert.NotBefore.ToUniversalTime():u}";
            }
            if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.NotSignatureValid)) != 0)
                return $"{who} is not signed by the cluster's CA ({SiloTlsFiles.CaSetting})";
            if ((status & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
                return $"{who} is not for {(usage == SiloTlsFiles.ServerAuthOid ? "serverAuth" : "clientAuth")} (its extended key usage)";
            return $"{who} does not validate: {status}";
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }
}

/// <summary>One load of the files: the certificate, its chain context for handshakes, and the cluster's CA bundle.</summary>
internal sealed record SiloTlsMaterial(X509Certificate2 Certificate, SslStreamCertificateContext Context, X509Certificate2Collection Authorities);

/// <summary>What the validation callback of one handshake found wrong with the peer's certificate (null: nothing).</summary>
internal sealed class PeerCertificateCheck
{
    public string? Problem { get; set; }
}
