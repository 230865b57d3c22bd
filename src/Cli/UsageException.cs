namespace Platform.Cli;

/// <summary>The command line asks for something that cannot be done as written; exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
