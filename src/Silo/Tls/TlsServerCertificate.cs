using System.Security.Cryptography.X509Certificates;

namespace Platform.Silo.Tls;

/// <summary>
/// The certificate the HTTPS listener presents to each new connection. Loaded at start; swapped when its files change
/// and load, so a renewed certificate needs no restart; files that do not load keep the one in use.
/// </summary>
public sealed class TlsServerCertificate
{
    private readonly string _certPath;
    private readonly string? _keyPath;
    private readonly Lock _gate = new();
    private volatile X509Certificate2 _current;
    private TlsFileStamp _attempted;

    /// <summary>Loads the files; a file that cannot be used throws an exception naming its setting.</summary>
    internal TlsServerCertificate(string certPath, string? keyPath)
    {
        _certPath = certPath;
        _keyPath = keyPath;
        _attempted = TlsFileStamp.Of(certPath, keyPath);
        _current = TlsPemFiles.LoadServerCertificate(certPath, keyPath);
    }

    /// <summary>The certificate new TLS handshakes get.</summary>
    public X509Certificate2 Current => _current;

    /// <summary>Subject, thumbprint and expiry: what the log says of a certificate (nothing private).</summary>
    internal static string Describe(X509Certificate2 cert)
        => $"{cert.Subject} (thumbprint {cert.Thumbprint}, valid until {cert.NotAfter.ToUniversalTime():u})";

    /// <summary>Loads the files again if they changed since the last attempt: the new certificate, null when unchanged, or the reason they do not load.</summary>
    internal TlsReload CheckForChange()
    {
        lock (_gate)
        {
            var stamp = TlsFileStamp.Of(_certPath, _keyPath);
            if (stamp == _attempted) return default;
            // A certificate written before its key fails once; writing the key changes the stamp again and retries.
            _attempted = stamp;
            try
            {
                // The one in use is not disposed: handshakes that already took it may still be running.
                var loaded = TlsPemFiles.LoadServerCertificate(_certPath, _keyPath);
                _current = loaded;
                return new TlsReload(Describe(loaded), null);
            }
            catch (TlsFileException e)
            {
                return new TlsReload(null, e.Message);
            }
        }
    }
}

/// <summary>The outcome of a reload check: what was loaded, why nothing could be, or neither (nothing changed).</summary>
internal readonly record struct TlsReload(string? Loaded, string? Error);
