using System.Net.Http;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Client.Tls;

/// <summary>
/// How a client reaches a silo over HTTPS: the CA that signs the silo's certificate, the client's own certificate and
/// key (PEM files), and the name the silo's certificate must carry when it is not the URL's host (docs/tls.md).
/// </summary>
public sealed record TlsClientSettings
{
    /// <summary>PEM bundle of the CA(s) the silo's certificate must chain to. None: the machine's CA store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM file with this client's certificate (agents). None: no client certificate.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM file with the client certificate's private key. None: the key is read from <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>The name the silo's certificate must carry. None: the host of the URL connected to.</summary>
    public string? ServerName { get; init; }

    /// <summary>Makes <paramref name="handler"/> check the silo's certificate and present the client certificate; throws <see cref="TlsSettingsException"/> for a file that cannot be used.</summary>
    public SocketsHttpHandler Configure(SocketsHttpHandler handler, TimeProvider? time = null)
    {
        var (validator, certificate) = Load(time);
        handler.SslOptions.RemoteCertificateValidationCallback = validator.Validate;
        if (certificate is not null) handler.SslOptions.ClientCertificates = [certificate];
        return handler;
    }

    /// <summary>The same for an agent's WebSocket; throws <see cref="TlsSettingsException"/> for a file that cannot be used.</summary>
    public ClientWebSocketOptions Configure(ClientWebSocketOptions options, TimeProvider? time = null)
    {
        var (validator, certificate) = Load(time);
        options.RemoteCertificateValidationCallback = validator.Validate;
        if (certificate is not null) options.ClientCertificates = [certificate];
        return options;
    }

    /// <summary>Why the silo's certificate was refused, when that is what <paramref name="error"/> (an HttpRequestException, WebSocketException, …) comes from; otherwise null.</summary>
    public static string? DescribeFailure(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
            if (e is SiloCertificateException) return e.Message;
        return null;
    }

    private (SiloCertificateValidator Validator, X509Certificate2? Certificate) Load(TimeProvider? time)
    {
        if (KeyFile is not null && CertFile is null)
            throw new TlsSettingsException($"the client key file '{KeyFile}' is given without a client certificate file.");
        var cas = CaFile is null ? null : TlsClientFiles.LoadCas(CaFile);
        var certificate = CertFile is null ? null : TlsClientFiles.LoadClientCertificate(CertFile, KeyFile);
        return (new SiloCertificateValidator(cas, CaFile, ServerName, time ?? TimeProvider.System), certificate);
    }
}
