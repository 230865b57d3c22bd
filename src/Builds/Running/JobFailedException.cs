namespace Platform.Builds.Running;

/// <summary>A job that cannot run (an unknown commit, a missing step, no container engine): the message says what and why.</summary>
public sealed class JobFailedException(string message, Exception? inner = null) : Exception(message, inner);
