using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Platform.Runtime.Transport;

namespace Platform.Cluster.Bench;

/// <summary>A CA and one certificate per silo for silo-to-silo TLS, written as PEM files into the run's log directory.</summary>
public sealed class BenchCertificates
{
    private readonly X509Certificate2 _ca;
    private readonly string _dir;

    public BenchCertificates(string dir)
    {
        _dir = dir;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Bench cluster CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaFile = Path.Combine(dir, "ca.pem");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
    }

    public string CaFile { get; }

    /// <summary>The TLS settings of silo <paramref name="name"/>: a new certificate of the CA (P-256, as cert-manager issues by default).</summary>
    public SiloTlsOptions Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var cert = request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(12));
        var certFile = Path.Combine(_dir, $"{name}.pem");
        var keyFile = Path.Combine(_dir, $"{name}.key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return new SiloTlsOptions { CertificateFile = certFile, KeyFile = keyFile, CaFile = CaFile };
    }
}
