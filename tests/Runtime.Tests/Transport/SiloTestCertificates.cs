using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Platform.Runtime.Tests.Storage;
using Platform.Runtime.Transport;

namespace Platform.Runtime.Tests.Transport;

/// <summary>
/// Certificates for silo-to-silo TLS made for a test and written as PEM to a temporary directory: the cluster's CA,
/// silo certificates it signed (serverAuth and clientAuth), and another CA with a silo certificate of its own.
/// </summary>
public sealed class SiloTestCertificates : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _otherCa;
    private int _issued;

    public SiloTestCertificates()
    {
        _ca = CreateCa("CN=Cluster Test CA");
        _otherCa = CreateCa("CN=Other Test CA");
        CaFile = Write("ca.pem", _ca.ExportCertificatePem());
        OtherCaFile = Write("other-ca.pem", _otherCa.ExportCertificatePem());
    }

    public string Directory => _dir.Path;
    public string CaFile { get; }
    public string OtherCaFile { get; }

    /// <summary>A certificate and key file of a silo, signed by the cluster's CA (or by the other one).</summary>
    public (string Cert, string Key) Issue(string name, bool otherCa = false, bool expired = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        var (from, until) = expired ? (now.AddDays(-10), now.AddDays(-1)) : (now.AddDays(-1), now.AddDays(10));
        using var cert = request.Create(otherCa ? _otherCa : _ca, from, until, RandomNumberGenerator.GetBytes(12));
        var n = Interlocked.Increment(ref _issued);
        return (Write($"{name}-{n}.pem", cert.ExportCertificatePem()), Write($"{name}-{n}.key", key.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>TLS settings of a silo with a fresh certificate of the cluster's CA (or of the other CA), trusting the cluster's CA.</summary>
    public Action<TransportOptions> Silo(string name, bool otherCa = false, bool expired = false)
    {
        var (cert, key) = Issue(name, otherCa, expired);
        return t => t.Tls = new SiloTlsOptions { CertificateFile = cert, KeyFile = key, CaFile = CaFile };
    }

    private static X509Certificate2 CreateCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-30), now.AddDays(30));
    }

    private string Write(string name, string pem)
    {
        var file = Path.Combine(_dir.Path, name);
        File.WriteAllText(file, pem);
        return file;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        _dir.Dispose();
    }
}
