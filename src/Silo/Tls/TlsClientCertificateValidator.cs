using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Silo.Tls;

/// <summary>
/// Checks a client certificate against the CA bundle of Platform:Tls:ClientCa only (never the machine's trust store):
/// signed by one of those CAs, within its validity period, usable for client authentication. Revocation is not checked.
/// </summary>
public sealed class TlsClientCertificateValidator
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly string _caPath;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile X509Certificate2Collection _cas;
    private TlsFileStamp _attempted;

    /// <summary>Loads the CA bundle; a file that cannot be used throws an exception naming the setting.</summary>
    internal TlsClientCertificateValidator(string caPath, TimeProvider time)
    {
        _caPath = caPath;
        _time = time;
        _attempted = TlsFileStamp.Of(caPath);
        _cas = TlsPemFiles.LoadCertificates(caPath, TlsPemFiles.ClientCaSetting);
    }

    /// <summary>Null when <paramref name="certificate"/> is good; otherwise why not, in words that name nothing private.</summary>
    public string? Validate(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_cas);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        policy.ApplicationPolicy.Add(new Oid(ClientAuthOid));
        try
        {
            if (chain.Build(certificate)) return null;
            var status = X509ChainStatusFlags.NoError;
            foreach (var s in chain.ChainStatus) status |= s.Status;
            return Explain(certificate, status, policy.VerificationTime);
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    private static string Explain(X509Certificate2 cert, X509ChainStatusFlags status, DateTime now)
    {
        var who = $"the client certificate ({cert.Subject}, issued by {cert.Issuer})";
        if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return now > cert.NotAfter.ToUniversalTime()
                ? $"{who} expired on {cert.NotAfter.ToUniversalTime():u}"
                : $"{who} is not valid before {cert.NotBefore.ToUniversalTime():u}";
        }
        if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.NotSignatureValid)) != 0)
            return $"{who} is not signed by a CA in {TlsPemFiles.ClientCaSetting}";
        if ((status & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
            return $"{who} is not for client authentication (its extended key usage lacks clientAuth)";
        return $"{who} does not validate: {status}";
    }

    /// <summary>Loads the CA bundle again if its file changed since the last attempt.</summary>
    internal TlsReload CheckForChange()
    {
        lock (_gate)
        {
            var stamp = TlsFileStamp.Of(_caPath);
            if (stamp == _attempted) return default;
            _attempted = stamp;
            try
            {
                var cas = TlsPemFiles.LoadCertificates(_caPath, TlsPemFiles.ClientCaSetting);
                _cas = cas;
                return new TlsReload($"{cas.Count} CA certificate(s) from '{_caPath}'", null);
            }
            catch (TlsFileException e)
            {
                return new TlsReload(null, e.Message);
            }
        }
    }
}
