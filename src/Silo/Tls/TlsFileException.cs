namespace Platform.Silo.Tls;

/// <summary>A TLS file that cannot be used; the message names the setting and the file, never the file's content.</summary>
internal sealed class TlsFileException(string message, Exception? inner = null) : Exception(message, inner);
