namespace Platform.Silo.Hosting;

/// <summary>A configuration problem found at start: printed as one line naming the setting, then the silo exits non-zero.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
