namespace Platform.Agent.Deploy;

/// <summary>A deploy that cannot go on: the message names the input (a manifest field, a URL, an archive entry) and what was expected.</summary>
public sealed class DeployException(string message, Exception? inner = null) : Exception(message, inner);
