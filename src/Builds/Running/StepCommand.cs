namespace Platform.Builds.Running;

/// <summary>A process to run for a step: the executable, its arguments, working directory and whole environment.</summary>
public sealed record StepCommand(string FileName, IReadOnlyList<string> Args, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>How a step's process ended: its exit status, and whether it was cancelled or timed out first.</summary>
public sealed record StepExit(int ExitStatus, bool Canceled, bool TimedOut);
