using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Platform.Client.Tls;

namespace Platform.Silo.Tests.Tls;

/// <summary>The client side against a plain TLS server in the test process: what is refused, and what the errors say.</summary>
public sealed class TlsClientSettingsTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    /// <summary>Serves one TLS handshake with <paramref name="server"/> on a loopback port, then answers one HTTP request.</summary>
    private static async Task<Exception?> RequestAgainstAsync(TestCertificates.Pem server, TlsClientSettings settings, string host = "127.0.0.1")
    {
        using var certificate = X509Certificate2.CreateFromPemFile(server.CertFile, server.KeyFile);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(socket.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(certificate);
                var buffer = new byte[4096];
                _ = await tls.ReadAsync(buffer);
                await tls.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // The client refused the certificate and closed.
            }
        });
        using var http = new HttpClient(settings.Configure(new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(30) };
        Exception? error = null;
        try
        {
            using var response = await http.GetAsync($"https://{host}:{port}/");
        }
        catch (HttpRequestException e)
        {
            error = e;
        }
        await serve;
        return error;
    }

    [Fact]
    public async Task Server_certificate_signed_by_the_CA_is_accepted()
        => Assert.Null(await RequestAgainstAsync(_certs.Server, new TlsClientSettings { CaFile = _certs.CaFile }));

    [Fact]
    public async Task Expired_server_certificate_is_refused_saying_when_it_expired()
    {
        var error = await RequestAgainstAsync(_certs.ExpiredServer, new TlsClientSettings { CaFile = _certs.CaFile });
        Assert.NotNull(error);
        Assert.Equal($"the silo's certificate (CN=silo expired) expired on {_certs.ExpiredServer.NotAfter.UtcDateTime:u}", TlsClientSettings.DescribeFailure(error));
    }

    [Fact]
    public async Task Server_certificate_for_other_names_is_refused_naming_them_and_a_server_name_override_accepts_it()
    {
        var error = await RequestAgainstAsync(_certs.Server, new TlsClientSettings { CaFile = _certs.CaFile, ServerName = "silo.example.com" });
        Assert.NotNull(error);
        Assert.StartsWith("the silo's certificate (CN=silo) is for localhost, 127.0.0.1, not 'silo.example.com'", TlsClientSettings.DescribeFailure(error));

        Assert.Null(await RequestAgainstAsync(_certs.Server, new TlsClientSettings { CaFile = _certs.CaFile, ServerName = "localhost" }));
    }

    [Fact]
    public void Unreadable_CA_file_is_an_error_naming_the_file()
    {
        var missing = Path.Combine(_certs.Directory, "no-such-ca.pem");
        var e = Assert.Throws<TlsSettingsException>(() => new TlsClientSettings { CaFile = missing }.Configure(new SocketsHttpHandler()));
        Assert.StartsWith($"the CA file '{missing}' cannot be read", e.Message);
    }

    [Fact]
    public void CA_file_without_a_certificate_is_an_error_naming_the_file()
    {
        var e = Assert.Throws<TlsSettingsException>(() => new TlsClientSettings { CaFile = _certs.Client.KeyFile }.Configure(new SocketsHttpHandler()));
        Assert.Equal($"the CA file '{_certs.Client.KeyFile}' has no PEM certificate (-----BEGIN CERTIFICATE-----).", e.Message);
    }

    [Fact]
    public void Client_key_of_another_certificate_is_an_error_naming_both_files()
    {
        var settings = new TlsClientSettings { CaFile = _certs.CaFile, CertFile = _certs.Client.CertFile, KeyFile = _certs.OtherCaClient.KeyFile };
        var e = Assert.Throws<TlsSettingsException>(() => settings.Configure(new System.Net.WebSockets.ClientWebSocket().Options));
        Assert.StartsWith($"the client key file '{_certs.OtherCaClient.KeyFile}' does not hold the private key of the certificate in '{_certs.Client.CertFile}'", e.Message);
    }
}
