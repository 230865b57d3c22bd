using System.Net;
using Platform.Client.Tls;

namespace Platform.Silo.Tests.Tls;

public sealed class CertificateReloadTests
{
    /// <summary>The thumbprint of the certificate the silo presents to a new connection (which also passes the CA check).</summary>
    private static async Task<string> PresentedThumbprintAsync(TlsSiloProcess silo, string caFile)
    {
        string? seen = null;
        var handler = new TlsClientSettings { CaFile = caFile }.Configure(new SocketsHttpHandler());
        var check = handler.SslOptions.RemoteCertificateValidationCallback!;
        handler.SslOptions.RemoteCertificateValidationCallback = (sender, cert, chain, errors) =>
        {
            seen = cert?.GetCertHashString();
            return check(sender, cert, chain, errors);
        };
        using var http = new HttpClient(handler) { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return seen!;
    }

    [Fact]
    public async Task Replaced_certificate_files_reach_new_connections_without_a_restart_and_a_mismatched_key_keeps_the_old_one()
    {
        using var certs = new TestCertificates();
        var live = new TestCertificates.Pem(Path.Combine(certs.Directory, "live.pem"), Path.Combine(certs.Directory, "live.key"), certs.Server.Thumbprint, certs.Server.NotAfter);
        File.Copy(certs.Server.CertFile, live.CertFile);
        File.Copy(certs.Server.KeyFile, live.KeyFile);
        await using var silo = await TlsSiloProcess.StartAsync(live, certs.CaFile);
        Assert.Equal(certs.Server.Thumbprint, await PresentedThumbprintAsync(silo, certs.CaFile));

        // A key that belongs to another certificate: the silo says so and keeps serving the one it has.
        TestCertificates.Replace(certs.SecondServer.KeyFile, live.KeyFile);
        await silo.WaitForOutputAsync("TLS server certificate not reloaded, the one in use stays", TimeSpan.FromSeconds(30));
        await silo.WaitForOutputAsync($"Platform:Tls:Key (--tls-key) '{live.KeyFile}' does not hold the private key of the certificate", TimeSpan.FromSeconds(30));
        Assert.Equal(certs.Server.Thumbprint, await PresentedThumbprintAsync(silo, certs.CaFile));

        // The matching certificate arrives: new connections get it.
        TestCertificates.Replace(certs.SecondServer.CertFile, live.CertFile);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string presented;
        while ((presented = await PresentedThumbprintAsync(silo, certs.CaFile)) != certs.SecondServer.Thumbprint)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the silo still presents {presented} 30 s after its files changed:\n{silo.Output}");
            await Task.Delay(50);
        }
        await silo.WaitForOutputAsync("TLS server certificate reloaded: CN=silo renewed", TimeSpan.FromSeconds(10));
    }
}
