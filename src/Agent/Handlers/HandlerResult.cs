namespace Platform.Agent.Handlers;

/// <summary>How one handler run ended: its exit code (null when it was killed or did not start), its output's last 8 KB and how much it wrote.</summary>
public sealed record HandlerResult(
    EventScript Script,
    HandlerEvent Event,
    int? ExitCode,
    byte[] Output,
    long OutputWritten,
    bool TimedOut,
    TimeSpan Duration,
    string? Error)
{
    /// <summary>The process exited with status 0 (Serf's success).</summary>
    public bool Succeeded => ExitCode == 0;
}
