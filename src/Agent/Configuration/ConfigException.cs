namespace Platform.Agent.Configuration;

/// <summary>The configuration (a file, a flag or their merge) is wrong; the message names the input and what was expected.</summary>
public sealed class ConfigException(string message) : Exception(message);
