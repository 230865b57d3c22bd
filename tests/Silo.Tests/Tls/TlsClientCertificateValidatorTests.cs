using System.Security.Cryptography.X509Certificates;
using Platform.Silo.Tls;

namespace Platform.Silo.Tests.Tls;

public sealed class TlsClientCertificateValidatorTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    private static X509Certificate2 Load(TestCertificates.Pem pem) => X509Certificate2.CreateFromPem(File.ReadAllText(pem.CertFile));

    [Fact]
    public void Certificate_signed_by_the_CA_passes_and_a_server_only_certificate_is_refused_for_its_key_usage()
    {
        var validator = new TlsClientCertificateValidator(_certs.CaFile, TimeProvider.System);
        using var client = Load(_certs.Client);
        using var server = Load(_certs.Server);
        Assert.Null(validator.Validate(client));
        Assert.Equal("the client certificate (CN=silo, issued by CN=Platform Test CA) is not for client authentication (its extended key usage lacks clientAuth)", validator.Validate(server));
    }

    [Fact]
    public void Replaced_CA_file_is_used_after_a_check_and_an_unreadable_one_keeps_the_old()
    {
        var caFile = Path.Combine(_certs.Directory, "agents-ca.pem");
        File.Copy(_certs.CaFile, caFile);
        var validator = new TlsClientCertificateValidator(caFile, TimeProvider.System);
        using var other = Load(_certs.OtherCaClient);
        Assert.Contains("is not signed by a CA in Platform:Tls:ClientCa", validator.Validate(other));

        File.WriteAllText(caFile, "not a certificate");
        Assert.Equal($"Platform:Tls:ClientCa (--tls-client-ca) '{caFile}' has no PEM certificate (-----BEGIN CERTIFICATE-----).", validator.CheckForChange().Error);
        Assert.Contains("is not signed by a CA in Platform:Tls:ClientCa", validator.Validate(other));

        TestCertificates.Replace(_certs.OtherCaFile, caFile);
        Assert.NotNull(validator.CheckForChange().Loaded);
        Assert.Null(validator.Validate(other));
        Assert.Equal(default, validator.CheckForChange());
    }
}
