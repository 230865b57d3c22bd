using System.Security.Authentication;

namespace Platform.Client.Tls;

/// <summary>The silo's certificate was refused; the message says why (not signed by the configured CA, expired, another name).</summary>
public sealed class SiloCertificateException(string message) : AuthenticationException(message);
