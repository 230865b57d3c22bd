namespace Platform.Nodes.Bench;

/// <summary>The run cannot give trustworthy numbers (a process died, an effect never came): stop and say why.</summary>
public sealed class BenchFailure(string message) : Exception(message);
