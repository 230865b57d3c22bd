namespace Platform.Agent.Checks;

/// <summary>A check definition is wrong; the message names the check, the key and what was expected.</summary>
public sealed class CheckDefinitionException(string message) : Exception(message);
