using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Platform.Client.Tls;

/// <summary>
/// Checks the silo's certificate during the TLS handshake: against the CA file only when one is given (custom root
/// trust, revocation not checked), against the machine's CA store otherwise, and against the expected host name.
/// A refusal throws a <see cref="SiloCertificateException"/> that says why; nothing is accepted silently.
/// </summary>
internal sealed class SiloCertificateValidator(X509Certificate2Collection? cas, string? caFile, string? serverName, TimeProvider time)
{
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null) throw new SiloCertificateException("the silo sent no certificate");
        var cert = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var reason = cas is null ? CheckSystemTrust(cert, presented, errors) : CheckCustomTrust(cert, presented);
        reason ??= CheckName(cert, serverName ?? (sender as SslStream)?.TargetHostName, errors);
        return reason is null ? true : throw new SiloCertificateException(reason);
    }

    private string? CheckCustomTrust(X509Certificate2 cert, X509Chain? presented)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(cas!);
        // Intermediates the silo sent along; they lead to a trusted root or they do not count.
        if (presented is not null) policy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = time.GetUtcNow().UtcDateTime;
        try
        {
            if (chain.Build(cert)) return null;
            var status = X509ChainStatusFlags.NoError;
            foreach (var s in chain.ChainStatus) status |= s.Status;
            return Explain(cert, status, policy.VerificationTime, $"is not signed by the CA in '{caFile}'");
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    private string? CheckSystemTrust(X509Certificate2 cert, X509Chain? presented, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0) return null;
        var status = X509ChainStatusFlags.NoError;
        if (presented is not null)
            foreach (var s in presented.ChainStatus) status |= s.Status;
        return Explain(cert, status, time.GetUtcNow().UtcDateTime, "is not signed by a CA this machine trusts; give the silo's CA file");
    }

    private static string Explain(X509Certificate2 cert, X509ChainStatusFlags status, DateTime now, string untrusted)
    {
        var who = $"the silo's certificate ({cert.Subject})";
        if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return now > cert.NotAfter.ToUniversalTime()
                ? $"{who} expired on {cert.NotAfter.ToUniversalTime():u}"
                : $"{who} is not valid before {cert.NotBefore.ToUniversalTime():u}";
        }
        if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.NotSignatureValid)) != 0)
            return $"{who}, issued by {cert.Issuer}, {untrusted}";
        return $"{who} does not validate: {status}";
    }

    private static string? CheckName(X509Certificate2 cert, string? expected, SslPolicyErrors errors)
    {
        if (string.IsNullOrEmpty(expected))
            return (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0 ? null : $"the silo's certificate ({cert.Subject}) is not for the host connected to";
        if (cert.MatchesHostname(expected)) return null;
        var names = new List<string>();
        foreach (var extension in cert.Extensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension san) continue;
            names.AddRange(san.EnumerateDnsNames());
            foreach (var ip in san.EnumerateIPAddresses()) names.Add(ip.ToString());
        }
        var forNames = names.Count == 0 ? "names no host" : $"is for {string.Join(", ", names)}";
        return $"the silo's certificate ({cert.Subject}) {forNames}, not '{expected}'; connect by one of its names or set the server name to one";
    }
}
