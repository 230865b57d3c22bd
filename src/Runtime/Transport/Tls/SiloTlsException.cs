namespace Platform.Runtime.Transport;

/// <summary>A silo-to-silo TLS setting or file that cannot be used; the message names the setting and the file, never its content.</summary>
public sealed class SiloTlsException(string message, Exception? inner = null) : Exception(message, inner);
