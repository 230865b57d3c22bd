namespace Platform.Client.Tls;

/// <summary>A TLS file given in <see cref="TlsClientSettings"/> cannot be used; the message names the file, never its content.</summary>
public sealed class TlsSettingsException(string message, Exception? inner = null) : Exception(message, inner);
