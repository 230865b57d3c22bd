using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Runtime.Transport;

/// <summary>Reads the PEM files of <see cref="SiloTlsOptions"/>; every failure is a <see cref="SiloTlsException"/> naming the setting and the file.</summary>
internal static class SiloTlsFiles
{
    public const string CertSetting = "Platform:Cluster:Tls:CertificateFile (--silo-tls-cert)";
    public const string KeySetting = "Platform:Cluster:Tls:KeyFile (--silo-tls-key)";
    public const string CaSetting = "Platform:Cluster:Tls:CaFile (--silo-tls-ca)";

    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>This silo's certificate with its key: it serves the connections peers dial and authenticates the ones it dials.</summary>
    public static X509Certificate2 LoadCertificate(string certPath, string? keyPath)
    {
        var certText = Read(certPath, CertSetting);
        var leaf = ParseCertificates(certText, certPath, CertSetting)[0];
        if (!AllowsUsage(leaf, ServerAuthOid) || !AllowsUsage(leaf, ClientAuthOid))
        {
            throw new SiloTlsException(
                $"{CertSetting} '{certPath}': the certificate ({leaf.Subject}) is not for both ends of a connection: a silo serves and dials, so its extended key usage needs serverAuth and clientAuth (or no extended key usage at all).");
        }

        var (keyText, keyFile, keySetting) = keyPath is null ? (certText, certPath, CertSetting) : (Read(keyPath, KeySetting), keyPath, KeySetting);
        if (keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            throw new SiloTlsException($"{keySetting} '{keyFile}' holds an encrypted private key; give it unencrypted and protect the file's permissions instead.");
        if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new SiloTlsException(keyPath is null
                ? $"{CertSetting} '{certPath}' has no private key: set {KeySetting} to the key's PEM file."
                : $"{KeySetting} '{keyPath}' has no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }
        try
        {
            return X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new SiloTlsException($"{keySetting} '{keyFile}' does not hold the private key of the certificate in {CertSetting} '{certPath}' ({leaf.Subject}): {e.Message}", e);
        }
    }

    /// <summary>Every certificate of the CA bundle.</summary>
    public static X509Certificate2Collection LoadAuthorities(string path) => ParseCertificates(Read(path, CaSetting), path, CaSetting);

    /// <summary>Last write times and lengths of the files: a different stamp means one changed (or appeared, or went).</summary>
    public static long Stamp(string a, string? b, string c)
    {
        var hash = new HashCode();
        Add(ref hash, a);
        if (b is not null) Add(ref hash, b);
        Add(ref hash, c);
        return hash.ToHashCode();

        static void Add(ref HashCode hash, string path)
        {
            // FileInfo follows symbolic links, so a Kubernetes secret's swapped ..data link counts as a change.
            var info = new FileInfo(path);
            hash.Add(info.Exists ? info.LastWriteTimeUtc.Ticks : -1);
            hash.Add(info.Exists ? info.Length : -1);
        }
    }

    private static string Read(string path, string setting)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiloTlsException($"{setting} '{path}' cannot be read: {e.Message}", e);
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
            throw new SiloTlsException($"{setting} '{path}' has a PEM certificate that cannot be parsed: {e.Message}", e);
        }
        if (certs.Count == 0) throw new SiloTlsException($"{setting} '{path}' has no PEM certificate (-----BEGIN CERTIFICATE-----).");
        return certs;
    }

    private static bool AllowsUsage(X509Certificate2 cert, string oid)
    {
        foreach (var extension in cert.Extensions)
        {
            if (extension is not X509EnhancedKeyUsageExtension eku) continue;
            foreach (var usage in eku.EnhancedKeyUsages)
                if (usage.Value == oid) return true;
            return false;
        }
        return true;
    }
}
