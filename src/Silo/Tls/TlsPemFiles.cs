using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Silo.Tls;

/// <summary>Reads the PEM files of <see cref="TlsOptions"/>; every failure is a <see cref="TlsFileException"/> naming the setting and the file.</summary>
internal static class TlsPemFiles
{
    public const string CertSetting = "Platform:Tls:Cert (--tls-cert)";
    public const string KeySetting = "Platform:Tls:Key (--tls-key)";
    public const string ClientCaSetting = "Platform:Tls:ClientCa (--tls-client-ca)";

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>The server certificate (the first in <paramref name="certPath"/>) with its private key from <paramref name="keyPath"/>, or from the certificate's file when null.</summary>
    public static X509Certificate2 LoadServerCertificate(string certPath, string? keyPath)
    {
        var certText = Read(certPath, CertSetting);
        var certs = ParseCertificates(certText, certPath, CertSetting);
        var leaf = certs[0];
        if (!AllowsServerAuth(leaf))
            throw new TlsFileException($"{CertSetting} '{certPath}': the certificate ({leaf.Subject}) is not for servers (its extended key usage lacks serverAuth).");

        var (keyText, keyFile, keySetting) = keyPath is null ? (certText, certPath, CertSetting) : (Read(keyPath, KeySetting), keyPath, KeySetting);
        if (keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            throw new TlsFileException($"{keySetting} '{keyFile}' holds an encrypted private key; give it unencrypted (openssl pkey -in key.pem -out plain.pem) and protect the file's permissions instead.");
        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TlsFileException(keyPath is null
                ? $"{CertSetting} '{certPath}' has no private key: set {KeySetting} to the key's PEM file."
                : $"{KeySetting} '{keyPath}' has no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }
        try
        {
            return X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new TlsFileException($"{keySetting} '{keyFile}' does not hold the private key of the certificate in {CertSetting} '{certPath}' ({leaf.Subject}): {e.Message}", e);
        }
    }

    /// <summary>Every certificate in a PEM bundle (a CA file).</summary>
    public static X509Certificate2Collection LoadCertificates(string path, string setting) => ParseCertificates(Read(path, setting), path, setting);

    private static string Read(string path, string setting)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new TlsFileException($"{setting} is empty; expected the path of a PEM file.");
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsFileException($"{setting} '{path}' cannot be read: {e.Message}", e);
        }
    }

    private static X509Certificate2Collection ParseCertificates(string text, string path, string setting)
    {
        var certs = new X509Certificate2Collection();
        try
        {
            certs.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new TlsFileException($"{setting} '{path}' has a PEM certificate that cannot be parsed: {e.Message}", e);
        }
        if (certs.Count == 0) throw new TlsFileException($"{setting} '{path}' has no PEM certificate (-----BEGIN CERTIFICATE-----).");
        return certs;
    }

    private static bool AllowsServerAuth(X509Certificate2 cert)
    {
        foreach (var extension in cert.Extensions)
        {
            if (extension is not X509EnhancedKeyUsageExtension eku) continue;
            foreach (var oid in eku.EnhancedKeyUsages)
                if (oid.Value == ServerAuthOid) return true;
            return false;
        }
        return true;
    }
}
