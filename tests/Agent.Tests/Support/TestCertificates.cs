using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Agent.Tests.Support;

/// <summary>A throwaway CA with a server certificate for 127.0.0.1 (expired when asked) and a client certificate, written as PEM files.</summary>
internal sealed class TestCertificates
{
    public required X509Certificate2 Server { get; init; }
    public required string CaFile { get; init; }
    public required string ClientCertFile { get; init; }
    public required string ClientKeyFile { get; init; }

    public static TestCertificates Create(string folder, bool expiredServer = false)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Platform Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(2));

        var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var (notBefore, notAfter) = expiredServer ? (DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(-1)) : (DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var serverPublic = serverRequest.Create(ca, notBefore, notAfter, [1]);
        var server = X509CertificateLoader.LoadPkcs12(serverPublic.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=web-1", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var client = clientRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), [2]);

        var caFile = Path.Combine(folder, "ca.pem");
        var certFile = Path.Combine(folder, "agent.pem");
        var keyFile = Path.Combine(folder, "agent-key.pem");
        File.WriteAllText(caFile, ca.ExportCertificatePem());
        File.WriteAllText(certFile, client.ExportCertificatePem());
        File.WriteAllText(keyFile, clientKey.ExportPkcs8PrivateKeyPem());
        return new TestCertificates { Server = server, CaFile = caFile, ClientCertFile = certFile, ClientKeyFile = keyFile };
    }
}
