using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Tls;

/// <summary>
/// Certificates made for a test and written as PEM to a temporary directory: a CA, server certificates for
/// 127.0.0.1 and localhost, client certificates signed by the CA, one signed by another CA, and expired ones.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _otherCa;

    public TestCertificates()
    {
        _ca = CreateCa("CN=Platform Test CA");
        _otherCa = CreateCa("CN=Other Test CA");
        CaFile = WriteCertificate("ca.pem", _ca);
        OtherCaFile = WriteCertificate("other-ca.pem", _otherCa);
        Server = Issue("server", _ca, "CN=silo", serverAuth: true);
        SecondServer = Issue("server2", _ca, "CN=silo renewed", serverAuth: true);
        ExpiredServer = Issue("server-expired", _ca, "CN=silo expired", serverAuth: true, expired: true);
        Client = Issue("client", _ca, "CN=node-1", serverAuth: false);
        OtherCaClient = Issue("client-other-ca", _otherCa, "CN=node-other", serverAuth: false);
        ExpiredClient = Issue("client-expired", _ca, "CN=node-expired", serverAuth: false, expired: true);
    }

    public string Directory => _dir.Path;
    public string CaFile { get; }
    public string OtherCaFile { get; }
    public Pem Server { get; }
    public Pem SecondServer { get; }
    public Pem ExpiredServer { get; }
    public Pem Client { get; }
    public Pem OtherCaClient { get; }
    public Pem ExpiredClient { get; }

    /// <summary>A certificate's PEM file, its key's PEM file, and its thumbprint.</summary>
    public sealed record Pem(string CertFile, string KeyFile, string Thumbprint, DateTimeOffset NotAfter);

    /// <summary>A silo's certificate for silo-to-silo TLS (serverAuth and clientAuth), signed by the CA or by the other CA.</summary>
    public Pem IssueSilo(string name, bool otherCa = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.Create(otherCa ? _otherCa : _ca, now.AddDays(-1), now.AddDays(10), RandomNumberGenerator.GetBytes(12));
        var certFile = Path.Combine(_dir.Path, $"silo-{name}.pem");
        var keyFile = Path.Combine(_dir.Path, $"silo-{name}.key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return new Pem(certFile, keyFile, cert.Thumbprint, now.AddDays(10));
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

    private Pem Issue(string name, X509Certificate2 ca, string subject, bool serverAuth, bool expired = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }
        var now = DateTimeOffset.UtcNow;
        var (notBefore, notAfter) = expired ? (now.AddDays(-10), now.AddDays(-1)) : (now.AddDays(-1), now.AddDays(10));
        using var cert = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        var certFile = Path.Combine(_dir.Path, name + ".pem");
        var keyFile = Path.Combine(_dir.Path, name + ".key");
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return new Pem(certFile, keyFile, cert.Thumbprint, notAfter);
    }

    private string WriteCertificate(string name, X509Certificate2 cert)
    {
        var file = Path.Combine(_dir.Path, name);
        File.WriteAllText(file, cert.ExportCertificatePem());
        return file;
    }

    /// <summary>Replaces <paramref name="target"/> with a copy of <paramref name="source"/> in one rename, as certificate tools do.</summary>
    public static void Replace(string source, string target)
    {
        var staged = target + ".new";
        File.WriteAllBytes(staged, File.ReadAllBytes(source));
        File.Move(staged, target, overwrite: true);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _otherCa.Dispose();
        _dir.Dispose();
    }
}
