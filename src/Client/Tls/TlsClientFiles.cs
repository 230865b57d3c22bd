using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Client.Tls;

/// <summary>Reads the PEM files of <see cref="TlsClientSettings"/>; every failure is a <see cref="TlsSettingsException"/> naming the file.</summary>
internal static class TlsClientFiles
{
    /// <summary>Every certificate in a CA bundle.</summary>
    public static X509Certificate2Collection LoadCas(string path)
    {
        var text = Read(path, "CA file");
        var certs = new X509Certificate2Collection();
        try
        {
            certs.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new TlsSettingsException($"the CA file '{path}' has a PEM certificate that cannot be parsed: {e.Message}", e);
        }
        if (certs.Count == 0) throw new TlsSettingsException($"the CA file '{path}' has no PEM certificate (-----BEGIN CERTIFICATE-----).");
        return certs;
    }

    /// <summary>The client certificate with its private key (from <paramref name="keyPath"/>, or from the certificate's file when null).</summary>
    public static X509Certificate2 LoadClientCertificate(string certPath, string? keyPath)
    {
        var certText = Read(certPath, "client certificate file");
        if (!certText.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            throw new TlsSettingsException($"the client certificate file '{certPath}' has no PEM certificate (-----BEGIN CERTIFICATE-----).");
        var (keyText, keyFile) = keyPath is null ? (certText, certPath) : (Read(keyPath, "client key file"), keyPath);
        if (keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            throw new TlsSettingsException($"the client key file '{keyFile}' holds an encrypted private key; give it unencrypted and protect the file's permissions instead.");
        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TlsSettingsException(keyPath is null
                ? $"the client certificate file '{certPath}' has no private key: give the key's PEM file too."
                : $"the client key file '{keyPath}' has no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new TlsSettingsException($"the client key file '{keyFile}' does not hold the private key of the certificate in '{certPath}': {e.Message}", e);
        }
        // Windows' TLS stack cannot use a key that lives only in memory; a PKCS#12 round trip gives it a stored one.
        if (!OperatingSystem.IsWindows()) return certificate;
        using (certificate) return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string Read(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsSettingsException($"the {what} '{path}' cannot be read: {e.Message}", e);
        }
    }
}
