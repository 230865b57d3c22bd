namespace Platform.Keys.Bench;

/// <summary>The run cannot give trustworthy numbers (a server answered errors, died, or never answered): stop and say why.</summary>
public sealed class BenchFailure(string message) : Exception(message);
